using System.Globalization;
using System.Text;

namespace MicroTvm.Compiler.Codegen;

/// <summary>Builds C source text with indentation; always '\n' line ends so output is identical on every OS.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    public CodeWriter Lines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").TrimEnd('\n').Split('\n')) Line(line);
        return this;
    }

    /// <summary>Writes "<paramref name="header"/> {", indents until the returned scope is disposed, then "}".</summary>
    public IDisposable Block(string header, string closing = "}")
    {
        Line(header.Length == 0 ? "{" : header + " {");
        _indent++;
        return new Scope(this, closing);
    }

    public void Append(CodeWriter other) => _text.Append(other._text);

    public override string ToString() => _text.ToString();

    private sealed class Scope(CodeWriter writer, string closing) : IDisposable
    {
        public void Dispose()
        {
            writer._indent--;
            writer.Line(closing);
        }
    }
}

/// <summary>C literal formatting.</summary>
internal static class CLiteral
{
    public static string Int(long value) => value switch
    {
        int.MinValue => "(-2147483647 - 1)",
        < int.MinValue or > int.MaxValue => value == long.MinValue ? "(-9223372036854775807LL - 1)" : value.ToString(CultureInfo.InvariantCulture) + "LL",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A float constant that reads back to exactly the same bits (shortest round-trip digits).</summary>
    public static string Float(float value)
    {
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "not finite");
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (!text.Contains('.') && !text.Contains('E')) text += ".0";
        return text.Replace("E", "e") + "f";
    }

    /// <summary>Text for the inside of a C block comment: printable ASCII only (anything else becomes '?'), and
    /// neither "*/" (ends the comment) nor "/*" (-Wcomment) can form: a '_' goes between such a '*' and '/'.</summary>
    public static string CommentText(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            char shown = c is >= ' ' and <= '~' ? c : '?';
            if (sb.Length > 0 && (sb[^1], shown) is ('*', '/') or ('/', '*')) sb.Append('_');
            sb.Append(shown);
        }

        return sb.ToString();
    }
}
