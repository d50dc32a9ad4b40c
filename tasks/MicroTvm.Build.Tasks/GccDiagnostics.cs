using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace MicroTvm.Build.Tasks
{
    internal enum DiagnosticKind
    {
        Error,
        Warning,
        Note,
    }

    internal sealed class GccDiagnostic
    {
        public GccDiagnostic(DiagnosticKind kind, string? file, int line, int column, string message, string? option)
        {
            Kind = kind;
            File = file;
            Line = line;
            Column = column;
            Message = message;
            Option = option;
        }

        public DiagnosticKind Kind { get; }
        public string? File { get; }
        public int Line { get; }
        public int Column { get; }
        public string Message { get; set; }
        /// <summary>The warning option gcc names, without the leading dash (e.g. Wunused-variable).</summary>
        public string? Option { get; }
    }

    /// <summary>
    /// Parses gcc's plain text diagnostics (-fdiagnostics-plain-output): "file:line:col: error: text [-Wopt]".
    /// Notes are appended to the diagnostic they explain; context lines ("In function ...") are dropped.
    /// </summary>
    internal static class GccDiagnostics
    {
        private static readonly Regex Located = new Regex(
            @"^(?<file>.+?):(?<line>\d+):(?:(?<col>\d+):)? (?<kind>fatal error|error|warning|note): (?<message>.*)$",
            RegexOptions.Compiled | RegexOptions.CultureInvariant);

        private static readonly Regex Unlocated = new Regex(
            @"^(?<file>[^:]+): (?<kind>fatal error|error|warning|note): (?<message>.*)$",
            RegexOptions.Compiled | RegexOptions.CultureInvariant);

        private static readonly Regex OptionSuffix = new Regex(@" \[-(?<option>W[^\]]+)\]$", RegexOptions.Compiled);

        public static List<GccDiagnostic> Parse(string output)
        {
            var result = new List<GccDiagnostic>();
            foreach (var rawLine in output.Split('\n'))
            {
                string line = rawLine.TrimEnd('\r');
                var match = Located.Match(line);
                string? file = null;
                int lineNumber = 0, column = 0;
                if (match.Success)
                {
                    file = match.Groups["file"].Value;
                    lineNumber = int.Parse(match.Groups["line"].Value);
                    column = match.Groups["col"].Success ? int.Parse(match.Groups["col"].Value) : 0;
                }
                else
                {
                    match = Unlocated.Match(line);
                    if (!match.Success)
                    {
                        continue;
                    }
                    // "cc1: error: ..." names the compiler pass, not a file.
                    string origin = match.Groups["file"].Value;
                    file = origin == "cc1" || origin.EndsWith("gcc") || origin == "as" || origin == "collect2" ? null : origin;
                }
                string message = match.Groups["message"].Value;
                string? option = null;
                var optionMatch = OptionSuffix.Match(message);
                if (optionMatch.Success)
                {
                    option = optionMatch.Groups["option"].Value;
                    if (option.StartsWith("Werror="))
                    {
                        option = "W" + option.Substring("Werror=".Length);
                    }
                    message = message.Substring(0, optionMatch.Index);
                }
                string kindText = match.Groups["kind"].Value;
                if (kindText == "note")
                {
                    if (result.Count > 0)
                    {
                        string where = file != null ? $"{file}:{lineNumber}: " : "";
                        result[result.Count - 1].Message += $" (note: {where}{message})";
                    }
                    continue;
                }
                var kind = kindText == "warning" ? DiagnosticKind.Warning : DiagnosticKind.Error;
                result.Add(new GccDiagnostic(kind, file, lineNumber, column, message, option));
            }
            return result;
        }
    }
}
