using System.Text.RegularExpressions;

namespace MicroTvm.Sdk.Tests.Infrastructure;

/// <summary>Reads what a terminal shows from the bytes a program wrote to it.</summary>
public static partial class TerminalText
{
    /// <summary>
    /// The lines a person reads: escape sequences (colours, hyperlinks, cursor moves) removed, each line as its last
    /// carriage return left it, and the terminal logger's live status lines ("name net10.0 Target (1.2s)", which it
    /// erases again) dropped.
    /// </summary>
    public static string Visible(string raw)
    {
        string text = Osc().Replace(raw, "");
        text = Csi().Replace(text, "");
        var lines = text.Split('\n')
            .Select(line => line.TrimEnd('\r').Split('\r')[^1])
            .Where(line => line.Trim().Length > 0 && !LiveStatus().IsMatch(line));
        return string.Join("\n", lines);
    }

    [GeneratedRegex(@"\x1b\][^\x07\x1b]*(\x07|\x1b\\)")]
    private static partial Regex Osc();

    // Control sequences, and the keypad-mode switches ESC = and ESC >.
    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|[=>])")]
    private static partial Regex Csi();

    [GeneratedRegex(@"^\s*(\(\d+\.\ds\)|\S+ net\d+\.\d+ [A-Za-z_]\w* \(\d+\.\ds\))\s*$")]
    private static partial Regex LiveStatus();
}
