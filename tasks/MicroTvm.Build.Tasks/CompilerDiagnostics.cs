using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace MicroTvm.Build.Tasks
{
    /// <summary>An error of the microtvm tool, read from its <c>--diagnostics-file</c>.</summary>
    internal sealed class CompilerDiagnostic
    {
        public CompilerDiagnostic(string code, string? file, string message, bool isWarning = false)
        {
            Code = code;
            File = file;
            Message = message;
            IsWarning = isWarning;
        }

        /// <summary>"severity": "warning" (a stale tuning log …): compilation went on.</summary>
        public bool IsWarning { get; }

        public string Code { get; }
        public string? File { get; }
        public string Message { get; }
    }

    /// <summary>
    /// The microtvm tool's diagnostics file: one JSON object of string (or null) fields per line. Structured, so
    /// text from the model (a tensor name holding a newline and "x.c : error MTVM0000") stays inside one message
    /// and can never become a second error. A small reader: .NET Framework's MSBuild has no JSON library to lean on.
    /// </summary>
    internal static class CompilerDiagnostics
    {
        /// <summary>The lines that are well-formed objects with a code and a message; others are skipped.</summary>
        public static List<CompilerDiagnostic> Parse(string text)
        {
            var diagnostics = new List<CompilerDiagnostic>();
            foreach (var line in text.Split('\n'))
            {
                var fields = ParseObject(line.Trim());
                if (fields != null && fields.TryGetValue("code", out var code) && code != null
                    && fields.TryGetValue("message", out var message) && message != null)
                {
                    fields.TryGetValue("file", out var file);
                    fields.TryGetValue("severity", out var severity);
                    diagnostics.Add(new CompilerDiagnostic(code, file, message, severity == "warning"));
                }
            }
            return diagnostics;
        }

        /// <summary>Control characters as visible escapes (\n, \r, \t, \u001b...), so one message stays one line in a
        /// log or a terminal and cannot move the cursor or forge a line.</summary>
        public static string EscapeControlCharacters(string text)
        {
            StringBuilder? builder = null;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                bool control = c < ' ' || (c >= '\u007f' && c <= '\u009f') || c == '\u2028' || c == '\u2029';
                if (!control)
                {
                    builder?.Append(c);
                    continue;
                }
                builder ??= new StringBuilder(text, 0, i, text.Length + 16);
                builder.Append(c switch
                {
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                });
            }
            return builder?.ToString() ?? text;
        }

        private static Dictionary<string, string?>? ParseObject(string line)
        {
            int at = 0;
            if (!Expect(line, ref at, '{'))
            {
                return null;
            }
            var fields = new Dictionary<string, string?>(StringComparer.Ordinal);
            SkipSpace(line, ref at);
            if (at < line.Length && line[at] == '}')
            {
                return fields;
            }
            while (true)
            {
                SkipSpace(line, ref at);
                string? key = ReadString(line, ref at);
                if (key == null || !Expect(line, ref at, ':'))
                {
                    return null;
                }
                SkipSpace(line, ref at);
                string? value;
                if (string.CompareOrdinal(line, at, "null", 0, 4) == 0)
                {
                    value = null;
                    at += 4;
                }
                else if ((value = ReadString(line, ref at)) == null)
                {
                    return null;
                }
                fields[key] = value;
                SkipSpace(line, ref at);
                if (Expect(line, ref at, ','))
                {
                    continue;
                }
                return Expect(line, ref at, '}') ? fields : null;
            }
        }

        private static string? ReadString(string text, ref int at)
        {
            if (at >= text.Length || text[at] != '"')
            {
                return null;
            }
            var builder = new StringBuilder();
            for (at++; at < text.Length; at++)
            {
                char c = text[at];
                if (c == '"')
                {
                    at++;
                    return builder.ToString();
                }
                if (c != '\\')
                {
                    builder.Append(c);
                    continue;
                }
                if (++at >= text.Length)
                {
                    return null;
                }
                switch (text[at])
                {
                    case '"': builder.Append('"'); break;
                    case '\\': builder.Append('\\'); break;
                    case '/': builder.Append('/'); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'n': builder.Append('\n'); break;
                    case 'r': builder.Append('\r'); break;
                    case 't': builder.Append('\t'); break;
                    case 'u':
                        if (at + 4 >= text.Length || !ushort.TryParse(text.Substring(at + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ushort unit))
                        {
                            return null;
                        }
                        builder.Append((char)unit);
                        at += 4;
                        break;
                    default: return null;
                }
            }
            return null;
        }

        private static bool Expect(string text, ref int at, char c)
        {
            SkipSpace(text, ref at);
            if (at < text.Length && text[at] == c)
            {
                at++;
                return true;
            }
            return false;
        }

        private static void SkipSpace(string text, ref int at)
        {
            while (at < text.Length && (text[at] == ' ' || text[at] == '\t' || text[at] == '\r'))
            {
                at++;
            }
        }
    }
}
