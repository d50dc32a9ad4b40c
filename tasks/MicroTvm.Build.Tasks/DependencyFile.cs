using System.Collections.Generic;
using System.Text;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Reads the Makefile fragment gcc writes with -MMD -MP ("obj.o: src.c a.h \" ... plus phony "a.h:" rules)
    /// and returns the prerequisites of the first rule: the source and every header it included.
    /// Handles line continuations and backslash-escaped spaces.
    /// </summary>
    internal static class DependencyFile
    {
        public static List<string> ParsePrerequisites(string text)
        {
            var words = new List<string>();
            var current = new StringBuilder();
            bool sawTargetColon = false;
            int i = 0;
            while (i < text.Length)
            {
                char c = text[i];
                if (c == '\\' && i + 1 < text.Length && (text[i + 1] == '\n' || text[i + 1] == '\r'))
                {
                    // Line continuation.
                    i += text[i + 1] == '\r' && i + 2 < text.Length && text[i + 2] == '\n' ? 3 : 2;
                    Flush(words, current);
                    continue;
                }
                if (c == '\\' && i + 1 < text.Length && (text[i + 1] == ' ' || text[i + 1] == '#'))
                {
                    current.Append(text[i + 1]);
                    i += 2;
                    continue;
                }
                if (c == '$' && i + 1 < text.Length && text[i + 1] == '$')
                {
                    current.Append('$');
                    i += 2;
                    continue;
                }
                if (c == '\n' || c == '\r')
                {
                    Flush(words, current);
                    if (sawTargetColon)
                    {
                        break; // End of the first rule; the rest are -MP phony targets.
                    }
                    i++;
                    continue;
                }
                if (c == ' ' || c == '\t')
                {
                    Flush(words, current);
                    i++;
                    continue;
                }
                // "target:" — a colon followed by whitespace/end (not a Windows drive "C:\").
                if (!sawTargetColon && c == ':' && (i + 1 >= text.Length || text[i + 1] == ' ' || text[i + 1] == '\t' || text[i + 1] == '\n' || text[i + 1] == '\r'))
                {
                    Flush(words, current);
                    words.Clear(); // Drop the target names.
                    sawTargetColon = true;
                    i++;
                    continue;
                }
                current.Append(c);
                i++;
            }
            Flush(words, current);
            return sawTargetColon ? words : new List<string>();
        }

        private static void Flush(List<string> words, StringBuilder current)
        {
            if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
    }
}
