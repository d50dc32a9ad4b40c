using System.Text;
using System.Text.RegularExpressions;

namespace MicroTvm.Sdk.Tests.Infrastructure;

/// <summary>Reads what a terminal shows from the bytes a program wrote to it.</summary>
public static partial class TerminalText
{
    /// <summary>
    /// The lines a person reads at the end: the bytes played on a screen of unbounded height, so that the terminal
    /// logger's redraws (cursor moves up, erased lines and screen tails) overwrite what they overwrite on a real
    /// terminal; colours and hyperlinks dropped; blank lines and a live status line left on the screen
    /// ("name net10.0 Target (1.2s)") dropped. Stripping escape sequences alone is not enough: a line printed
    /// right after a redraw then reads as glued to the status line it replaced.
    /// </summary>
    public static string Visible(string raw)
    {
        var screen = new Screen();
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (c != '\x1b')
            {
                screen.Put(c);
                continue;
            }
            var osc = Osc().Match(raw, i);
            if (osc.Success && osc.Index == i)
            {
                i += osc.Length - 1;
                continue;
            }
            var csi = Csi().Match(raw, i);
            if (csi.Success && csi.Index == i)
            {
                screen.Control(csi.Groups["params"].Value, csi.Groups["final"].Value[0]);
                i += csi.Length - 1;
                continue;
            }
            i++; // a two-character escape (keypad modes ESC = and ESC >, ...): no text
        }
        return string.Join("\n", screen.Lines.Where(line => line.Trim().Length > 0 && !LiveStatus().IsMatch(line)));
    }

    /// <summary>The cursor and the text under it; only the moves and erasures the dotnet CLI uses.</summary>
    private sealed class Screen
    {
        private readonly List<StringBuilder> lines = [new()];
        private int row;
        private int column;

        public IEnumerable<string> Lines => lines.Select(line => line.ToString().TrimEnd());

        public void Put(char c)
        {
            switch (c)
            {
                case '\r': column = 0; return;
                case '\n': MoveTo(row + 1, 0); return; // as a terminal with onlcr shows it
                case '\b': column = Math.Max(0, column - 1); return;
                case '\t': column = (column / 8 + 1) * 8; return;
                case < ' ': return;
            }
            var line = lines[row];
            if (line.Length < column)
            {
                line.Append(' ', column - line.Length);
            }
            if (column < line.Length)
            {
                line[column] = c;
            }
            else
            {
                line.Append(c);
            }
            column++;
        }

        public void Control(string parameters, char final)
        {
            if (parameters.StartsWith('?'))
            {
                return; // modes (cursor visibility, ...)
            }
            string[] numbers = parameters.Split(';');
            int n = int.TryParse(numbers[0], out int value) ? value : 0;
            int count = Math.Max(n, 1);
            switch (final)
            {
                case 'A': MoveTo(row - count, column); break;
                case 'B': MoveTo(row + count, column); break;
                case 'C': column += count; break;
                case 'D': column = Math.Max(0, column - count); break;
                case 'E': MoveTo(row + count, 0); break;
                case 'F': MoveTo(row - count, 0); break;
                case 'G': column = count - 1; break;
                case 'K': EraseInLine(n); break;
                case 'J':
                    if (n == 0)
                    {
                        EraseInLine(0);
                        lines.RemoveRange(row + 1, lines.Count - row - 1);
                    }
                    break;
            }
        }

        private void MoveTo(int newRow, int newColumn)
        {
            row = Math.Max(0, newRow);
            while (lines.Count <= row)
            {
                lines.Add(new StringBuilder());
            }
            column = newColumn;
        }

        private void EraseInLine(int mode)
        {
            var line = lines[row];
            switch (mode)
            {
                case 0: line.Length = Math.Min(line.Length, column); break;
                case 1:
                    for (int i = 0; i < Math.Min(column + 1, line.Length); i++)
                    {
                        line[i] = ' ';
                    }
                    break;
                default: line.Clear(); break;
            }
        }
    }

    [GeneratedRegex(@"\G\x1b\][^\x07\x1b]*(\x07|\x1b\\)")]
    private static partial Regex Osc();

    [GeneratedRegex(@"\G\x1b\[(?<params>[0-9;?]*)(?<final>[A-Za-z])")]
    private static partial Regex Csi();

    [GeneratedRegex(@"^\s*(\(\d+\.\ds\)|\S+ net\d+\.\d+ [A-Za-z_]\w* \(\d+\.\ds\))\s*$")]
    private static partial Regex LiveStatus();
}
