using System.Diagnostics;
using System.Text;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>Runs real tools (gcc, generated programs) for the code generation tests.</summary>
public static class Gcc
{
    /// <summary>The warnings generated C must be free of on every target, beyond -Wall -Wextra: what firmware teams
    /// commonly build with (docs/generated-c.md).</summary>
    public const string StrictWarnings = "-Wpedantic -Wconversion -Wsign-conversion";

    /// <summary>Flags every generated source must pass on the host: strict C99, all warnings as errors, sanitizers.</summary>
    public const string HostFlags = "-std=c99 -Wall -Wextra " + StrictWarnings + " -Werror -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all";

    public static (int ExitCode, string Output) Run(string program, string arguments, string? workingDirectory = null, int timeoutMs = 300_000)
    {
        var info = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        info.Environment["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0";
        info.Environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {arguments} did not finish in {timeoutMs} ms");
        }

        process.WaitForExit();
        return (process.ExitCode, output.ToString());
    }

    /// <summary>Compiles and links; fails the test with gcc's diagnostics when gcc fails.</summary>
    /// <summary>The timeout guards against a hang, it is no speed limit: 56 sanitizer builds of random operators take
    /// 4-5 minutes when the machine is shared (load 30 on 2 cores).</summary>
    public static void Build(string compiler, string flags, IEnumerable<string> sources, string output, string directory)
    {
        var (code, text) = Run(compiler, $"{flags} {string.Join(" ", sources.Select(Quote))} -o {Quote(output)}", directory, timeoutMs: 900_000);
        Assert.True(code == 0, $"{compiler} failed ({code}):\n{text}");
    }

    public static string Quote(string s) => s.Contains(' ') ? $"\"{s}\"" : s;

    public static string TemporaryDirectory(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
