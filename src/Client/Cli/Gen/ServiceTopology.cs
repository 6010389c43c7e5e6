namespace TimeFusion.Client.Cli.Gen;

/// <summary>An operation a service performs: its own latency and error rate, and the calls it makes in order.</summary>
/// <param name="Service">The service that runs it.</param>
/// <param name="Name">Span name.</param>
/// <param name="Method">HTTP method (null for database calls).</param>
/// <param name="Path">URL path, or the database query text for a database call.</param>
/// <param name="SelfMillis">Median time spent in the operation itself.</param>
/// <param name="ErrorRate">Chance the operation itself fails.</param>
/// <param name="Calls">Operations it calls, one after the other.</param>
public sealed record Operation(string Service, string Name, string? Method, string Path, double SelfMillis, double ErrorRate, params Operation[] Calls)
{
    /// <summary>A database call (a CLIENT span with <c>db.*</c> attributes, no server side).</summary>
    public bool IsDatabase => Method is null;
}

/// <summary>The demo system: a small web shop whose services call each other and two databases.</summary>
public static class ServiceTopology
{
    /// <summary>Service name → version.</summary>
    public static IReadOnlyDictionary<string, string> Versions { get; } = new Dictionary<string, string>
    {
        ["frontend"] = "2.4.1", ["catalog"] = "1.9.0", ["checkout"] = "3.1.2", ["payments"] = "1.2.7", ["users"] = "0.8.3",
    };

    private static Operation Sql(string service, string table, string query, double ms) =>
        new(service, $"{query.Split(' ')[0]} {table}", null, query, ms, 0.002);

    /// <summary>What users do, with how often (weights).</summary>
    public static IReadOnlyList<(Operation Root, double Weight)> Entrypoints { get; } =
    [
        (new Operation("frontend", "GET /api/products", "GET", "/api/products", 4, 0.002,
            new Operation("catalog", "GET /products", "GET", "/products", 3, 0.003,
                Sql("catalog", "products", "SELECT id, name, price FROM products WHERE category = $1 LIMIT 50", 6))), 0.55),
        (new Operation("frontend", "GET /api/me", "GET", "/api/me", 2, 0.001,
            new Operation("users", "GET /users/me", "GET", "/users/me", 2, 0.004,
                Sql("users", "users", "SELECT * FROM users WHERE id = $1", 2))), 0.25),
        (new Operation("frontend", "POST /api/checkout", "POST", "/api/checkout", 5, 0.003,
            new Operation("users", "GET /users/me", "GET", "/users/me", 2, 0.004,
                Sql("users", "users", "SELECT * FROM users WHERE id = $1", 2)),
            new Operation("checkout", "POST /orders", "POST", "/orders", 6, 0.01,
                Sql("checkout", "orders", "INSERT INTO orders (user_id, total) VALUES ($1, $2)", 8),
                new Operation("payments", "POST /charges", "POST", "/charges", 120, 0.04,
                    Sql("payments", "charges", "INSERT INTO charges (order_id, amount) VALUES ($1, $2)", 5)),
                Sql("checkout", "orders", "UPDATE orders SET status = 'paid' WHERE id = $1", 4))), 0.2),
    ];

    /// <summary>The exception a failing <paramref name="operation"/> throws: type and message.</summary>
    public static (string Type, string Message) ErrorOf(Operation operation) => operation switch
    {
        { IsDatabase: true } => ("Npgsql.PostgresException", "57014: canceling statement due to statement timeout"),
        { Service: "payments" } => ("PaymentDeclinedException", "card declined by issuer (insufficient_funds)"),
        { Service: "checkout" } => ("System.InvalidOperationException", "order total does not match the cart"),
        _ => ("System.Net.Http.HttpRequestException", "Connection reset by peer"),
    };
}
