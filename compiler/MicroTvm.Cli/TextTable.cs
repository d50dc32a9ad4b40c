namespace MicroTvm.Cli;

/// <summary>A plain-text table with columns as wide as their widest cell.</summary>
public sealed class TextTable
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = new();

    public TextTable(params string[] headers) => _headers = headers;

    public void Add(params string[] cells) => _rows.Add(cells);

    public void Write(TextWriter output, int[]? rightAligned = null)
    {
        var widths = _headers.Select((h, i) => Math.Max(h.Length, _rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        void Line(string[] cells) => output.WriteLine(string.Join("  ", cells.Select((c, i) =>
            rightAligned?.Contains(i) == true ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd());
        Line(_headers);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var row in _rows) Line(row);
    }
}
