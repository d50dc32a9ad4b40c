using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Threading;

namespace MicroTvm.Build.Tasks
{
    /// <summary>Result of one external tool run.</summary>
    internal sealed class ProcessResult
    {
        public ProcessResult(int exitCode, string output, bool timedOut, bool cancelled)
        {
            ExitCode = exitCode;
            Output = output;
            TimedOut = timedOut;
            Cancelled = cancelled;
        }

        public int ExitCode { get; }
        /// <summary>stdout and stderr interleaved in arrival order.</summary>
        public string Output { get; }
        public bool TimedOut { get; }
        public bool Cancelled { get; }
    }

    /// <summary>Runs tools with an argument list (no shell), stdin closed, output captured.</summary>
    internal static class ProcessRunner
    {
        public static ProcessResult Run(
            string fileName,
            IReadOnlyList<string> arguments,
            string workingDirectory,
            CancellationToken cancellation,
            Action<string>? onLine = null,
            TimeSpan? timeout = null)
        {
            var startInfo = StartInfo(fileName, arguments, workingDirectory);
            // Plain, untranslated diagnostics whatever the user's locale.
            startInfo.Environment["LC_ALL"] = "C";

            var output = new StringBuilder();
            using (var process = new Process { StartInfo = startInfo })
            {
                StartWithMergedLines(process, line =>
                {
                    lock (output)
                    {
                        output.AppendLine(line);
                        onLine?.Invoke(line);
                    }
                });

                var deadline = timeout.HasValue ? DateTime.UtcNow + timeout.Value : DateTime.MaxValue;
                bool timedOut = false, cancelled = false;
                while (!process.WaitForExit(50))
                {
                    if (cancellation.IsCancellationRequested)
                    {
                        cancelled = true;
                    }
                    else if (DateTime.UtcNow > deadline)
                    {
                        timedOut = true;
                    }
                    else
                    {
                        continue;
                    }
                    try
                    {
                        KillTree(process);
                    }
                    catch (InvalidOperationException)
                    {
                        // Exited meanwhile.
                    }
                    process.WaitForExit();
                    break;
                }
                // Drains the asynchronous readers.
                process.WaitForExit();
                lock (output)
                {
                    return new ProcessResult(process.ExitCode, output.ToString(), timedOut, cancelled);
                }
            }
        }

        /// <summary>
        /// Start information for a tool with its arguments as a list, never through a shell: on .NET each argument
        /// reaches the tool as it is (ArgumentList); the netstandard2.0 build (Visual Studio, Windows) quotes them
        /// the way the C runtime splits them. Standard streams redirected, no window.
        /// </summary>
        /// <summary>Starts <paramref name="process"/> with stdin closed; each line of its stdout and stderr goes to
        /// <paramref name="onLine"/> as it comes (on a pool thread, so the two streams can interleave).</summary>
        public static void StartWithMergedLines(Process process, Action<string> onLine)
        {
            DataReceivedEventHandler handler = (_, e) =>
            {
                if (e.Data != null)
                {
                    onLine(e.Data);
                }
            };
            process.OutputDataReceived += handler;
            process.ErrorDataReceived += handler;
            process.Start();
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, string workingDirectory)
        {
            var startInfo = new ProcessStartInfo(fileName)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
                WorkingDirectory = workingDirectory,
            };
#if NET
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }
#else
            startInfo.Arguments = JoinArguments(arguments);
#endif
            return startInfo;
        }

        /// <summary>Stops a tool and, where the runtime can, the processes it started (gcc's cc1, as).</summary>
        public static void KillTree(Process process)
        {
#if NET
            process.Kill(entireProcessTree: true);
#else
            process.Kill();
#endif
        }

        /// <summary>Quotes arguments the way both .NET on Unix and the Windows C runtime split them.</summary>
        public static string JoinArguments(IEnumerable<string> arguments)
        {
            var builder = new StringBuilder();
            foreach (var argument in arguments)
            {
                if (builder.Length > 0)
                {
                    builder.Append(' ');
                }
                AppendQuoted(builder, argument);
            }
            return builder.ToString();
        }

        private static void AppendQuoted(StringBuilder builder, string argument)
        {
            if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '"', '\'', '\n' }) < 0)
            {
                builder.Append(argument);
                return;
            }
            builder.Append('"');
            int backslashes = 0;
            foreach (char c in argument)
            {
                if (c == '\\')
                {
                    backslashes++;
                    continue;
                }
                if (c == '"')
                {
                    builder.Append('\\', backslashes * 2 + 1);
                }
                else
                {
                    builder.Append('\\', backslashes);
                }
                backslashes = 0;
                builder.Append(c);
            }
            builder.Append('\\', backslashes * 2);
            builder.Append('"');
        }

        /// <summary>
        /// Splits a flags property ("-mcpu=x -mthumb") into arguments: whitespace separates, double quotes group, and
        /// \" is a quote inside the argument (<c>-DVER=\"1.0\"</c> reaches gcc as <c>-DVER="1.0"</c>, as from a shell) —
        /// except a \" that closes a group before whitespace or the end: that is a folder's trailing backslash
        /// (<c>"-IC:\my dir\"</c> on Windows). Other backslashes are kept (Windows paths).
        /// </summary>
        public static List<string> SplitFlags(string? flags)
        {
            var result = new List<string>();
            if (string.IsNullOrWhiteSpace(flags))
            {
                return result;
            }
            string text = flags!;
            var current = new StringBuilder();
            bool quoted = false, any = false;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                bool escapedQuote = c == '\\' && i + 1 < text.Length && text[i + 1] == '"'
                    && (!quoted || (i + 2 < text.Length && !char.IsWhiteSpace(text[i + 2])));
                if (escapedQuote)
                {
                    current.Append('"');
                    any = true;
                    i++;
                }
                else if (c == '"')
                {
                    quoted = !quoted;
                    any = true;
                }
                else if (!quoted && char.IsWhiteSpace(c))
                {
                    if (any)
                    {
                        result.Add(current.ToString());
                        current.Clear();
                        any = false;
                    }
                }
                else
                {
                    current.Append(c);
                    any = true;
                }
            }
            if (any)
            {
                result.Add(current.ToString());
            }
            return result;
        }
    }
}
