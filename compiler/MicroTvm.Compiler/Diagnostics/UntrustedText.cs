using System.Globalization;
using System.Text;

namespace MicroTvm.Compiler.Diagnostics;

/// <summary>
/// Text that comes from a model file (tensor, subgraph and metadata names, the description) on its way to a person:
/// a terminal, a build log, an error message.
/// </summary>
public static class UntrustedText
{
    /// <summary>
    /// <paramref name="text"/> as one line a terminal shows literally: control characters (C0, DEL, C1: escape
    /// sequences, carriage returns, newlines that would forge a second error line), Unicode format characters
    /// (bidirectional overrides that reorder what is shown) and line/paragraph separators become <c>\xNN</c> or
    /// <c>\u{NNNN}</c>. Everything else is kept.
    /// </summary>
    public static string ForDisplay(string text)
    {
        if (!NeedsEscaping(text)) return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (var rune in text.EnumerateRunes())
        {
            if (!IsHidden(rune)) sb.Append(rune.ToString());
            else if (rune.Value < 0x100) sb.Append(CultureInfo.InvariantCulture, $"\\x{rune.Value:x2}");
            else sb.Append(CultureInfo.InvariantCulture, $"\\u{{{rune.Value:x4}}}");
        }

        return sb.ToString();
    }

    private static bool NeedsEscaping(string text)
    {
        foreach (var rune in text.EnumerateRunes())
            if (IsHidden(rune)) return true;
        return false;
    }

    private static bool IsHidden(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
