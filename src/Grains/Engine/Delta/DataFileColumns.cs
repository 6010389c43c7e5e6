using TimeFusion.Delta.Actions;
using TimeFusion.Tables;

namespace TimeFusion.Delta;

/// <summary>
/// How to read a group of a table's data files (one <c>read_parquet</c>) when a file may lack columns of the table
/// schema. The Delta protocol allows it ("Consistency Between Table Metadata and Data Files": "Columns present in the
/// schema of the table MAY be missing from data files. Readers SHOULD fill these missing columns in with null"), and
/// our files do: a flush leaves out the columns null in every row of the file (<c>Buffer:OmitNullColumns</c>, their
/// Delta null count = the row count), and files written before an <c>ALTER TABLE … ADD COLUMN</c> lack the column.
/// From the files' statistics alone (no footer read): a column null in every file is selected as a typed NULL and
/// not read at all; files lacking different columns are read in a few groups lacking the same ones (<see cref="Split"/>),
/// past that together with <c>union_by_name</c> (which reads every footer when binding, so only then); a column added
/// by ALTER whose files say nothing is read as before (<see cref="ParquetColumns"/>).
/// </summary>
public sealed class DataFileColumns
{
    private static readonly IReadOnlySet<string> NoColumns = new HashSet<string>(StringComparer.Ordinal);

    private DataFileColumns(IReadOnlySet<string> nulls, IReadOnlySet<string> maybeMissing, IReadOnlySet<string> added)
    {
        Null = nulls;
        MaybeMissing = maybeMissing;
        Added = added;
    }

    /// <summary>Columns null in every row of every file (per the statistics): selected as typed NULLs, not read.</summary>
    public IReadOnlySet<string> Null { get; }

    /// <summary>Columns not in <see cref="Null"/> that some file may lack: the files are read by name (<c>union_by_name</c>).</summary>
    public IReadOnlySet<string> MaybeMissing { get; }

    /// <summary>Columns of <see cref="MaybeMissing"/> added by ALTER TABLE: maybe in no file at all (<see cref="ParquetColumns.Source"/>).</summary>
    public IReadOnlySet<string> Added { get; }

    /// <summary>
    /// Whether the statistics are consulted (benchmarks turn it off to time the reading before files could lack a
    /// column: only <see cref="DeltaSchemaEvolution.AddedColumns"/> then, which is wrong for files that do lack one).
    /// </summary>
    internal static bool FromStatistics { get; set; } = true;

    /// <summary>Whether the files must be read by name.</summary>
    public bool UnionByName => MaybeMissing.Count > 0;

    /// <summary>
    /// The columns of <paramref name="schema"/> (but <c>date</c>, the partition column) that <paramref name="files"/>
    /// may lack: those their statistics say are null in every row, and <paramref name="added"/> (columns added after
    /// the table was created, <see cref="DeltaSchemaEvolution.AddedColumns"/>). A file without statistics is taken to
    /// hold every column but <paramref name="added"/>, as before any file could lack one.
    /// </summary>
    public static DataFileColumns Of(TableSchema schema, IEnumerable<AddFile> files, IReadOnlySet<string> added)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(added);
        HashSet<string>? everyFile = null;
        var someFile = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyList<string>? previous = null;
        foreach (var file in files)
        {
            var nulls = FromStatistics ? file.GetStats()?.NullColumns ?? [] : [];
            // The files of a table mostly lack the same columns: the same list again changes nothing.
            if (ReferenceEquals(nulls, previous) || (previous is not null && nulls.SequenceEqual(previous, StringComparer.Ordinal)))
                continue;
            previous = nulls;
            if (everyFile is null)
                everyFile = new HashSet<string>(nulls, StringComparer.Ordinal);
            else
                everyFile.IntersectWith(nulls);
            someFile.UnionWith(nulls);
        }
        HashSet<string>? nullColumns = null, maybeMissing = null, addedMissing = null;
        foreach (var column in schema.Columns)
        {
            var name = column.Name;
            if (name == TableSchema.DateColumn)
                continue;
            if (everyFile is not null && everyFile.Contains(name))
                (nullColumns ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
            else if (added.Contains(name))
            {
                (maybeMissing ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
                (addedMissing ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
            }
            else if (someFile.Contains(name))
                (maybeMissing ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
        }
        return new DataFileColumns(nullColumns ?? NoColumns, maybeMissing ?? NoColumns, addedMissing ?? NoColumns);
    }

    /// <summary>
    /// At most this many reads of one group of files when they differ in the columns null in all their rows
    /// (<see cref="Split"/>); more differences and they are read together, by name.
    /// </summary>
    public const int MaxSplitReads = 8;

    /// <summary>
    /// <paramref name="files"/> in groups that each lack the same columns (by their statistics), each with its columns
    /// (<see cref="Of"/>): no group needs <c>union_by_name</c> but for columns added by ALTER TABLE, which reads every
    /// file's footer when binding. When the files differ in more than <see cref="MaxSplitReads"/> ways, one group of all,
    /// read by name. The groups keep the files' order within them, and come in the order of their first file.
    /// </summary>
    public static IReadOnlyList<(DataFileColumns Columns, List<int> Files)> Split(TableSchema schema, IReadOnlyList<AddFile> files, IReadOnlySet<string> added)
    {
        ArgumentNullException.ThrowIfNull(files);
        var groups = new List<(IReadOnlyList<string> Nulls, List<int> Files)>();
        for (var i = 0; i < files.Count; i++)
        {
            var nulls = FromStatistics ? files[i].GetStats()?.NullColumns ?? [] : [];
            var group = groups.FindIndex(g => ReferenceEquals(g.Nulls, nulls) || g.Nulls.SequenceEqual(nulls, StringComparer.Ordinal));
            if (group < 0)
            {
                if (groups.Count == MaxSplitReads)
                    return [(Of(schema, files, added), Enumerable.Range(0, files.Count).ToList())];
                groups.Add((nulls, []));
                group = groups.Count - 1;
            }
            groups[group].Files.Add(i);
        }
        return groups.Select(g => (Of(schema, g.Files.Select(i => files[i]), added), g.Files)).ToList();
    }

    /// <summary>The select-list item of <paramref name="column"/>: its name, or a typed NULL named as it when no file holds a value of it.</summary>
    public string Select(ColumnDefinition column) =>
        Null.Contains(column.Name) ? $"CAST(NULL AS {ColumnTypeMapping.ToDuckDb(column.Type)}) AS {SqlNames.Quote(column.Name)}" : SqlNames.Quote(column.Name);

    /// <summary>
    /// The columns a rewrite of these files may leave out of what it writes (<c>Buffer:OmitNullColumns</c>): the nullable
    /// ones in <see cref="Null"/>, but those <paramref name="assigned"/> (an UPDATE's SET) may fill.
    /// </summary>
    public List<string> Omittable(TableSchema schema, IEnumerable<string>? assigned = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var set = assigned?.ToHashSet(StringComparer.Ordinal);
        return schema.Columns.Where(c => c.Nullable && Null.Contains(c.Name) && set?.Contains(c.Name) != true).Select(c => c.Name).ToList();
    }

    /// <summary>
    /// The relation reading <paramref name="paths"/> (local file paths, already checked for glob characters), by name
    /// when <see cref="UnionByName"/> or <paramref name="unionByName"/>, without Hive partitioning (the date comes from
    /// the log), from which every column of <paramref name="schema"/> not in <see cref="Null"/> can be selected.
    /// </summary>
    public string Read(TableSchema schema, IEnumerable<string> paths, bool unionByName = false)
    {
        var read = $"read_parquet([{string.Join(", ", paths.Select(SqlNames.Literal))}], "
                   + (unionByName || UnionByName ? "union_by_name = true, " : "") + "hive_partitioning = false)";
        return ParquetColumns.Source(read, schema, Added);
    }
}
