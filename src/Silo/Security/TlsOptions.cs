namespace TimeFusion.Silo.Security;

/// <summary>
/// Optional TLS of an endpoint (<c>TimeFusion:Postgres:Tls</c>, <c>TimeFusion:Flight:Tls</c>). Without
/// <see cref="CertificatePath"/> the endpoint speaks plain text, as before.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>
    /// The server certificate: a PEM file (with <see cref="KeyPath"/>, or holding the key itself) or a PKCS#12
    /// (<c>.pfx</c>/<c>.p12</c>) file. Empty: no TLS.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key file, when the key is not in <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or an encrypted PEM key, if any.</summary>
    public string? Password { get; set; }

    /// <summary>Whether TLS is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}
