using System.Diagnostics;
using System.Text;

namespace MicroTvm.Sdk.Tests.Infrastructure;

public sealed record ProcessOutput(int ExitCode, string Output);

/// <summary>Runs the dotnet CLI (the one running these tests) with captured output.</summary>
public static class DotNet
{
    public static string Executable { get; } = FindDotNet();

    public static ProcessOutput Run(string workingDirectory, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout) =>
        Run(Executable, workingDirectory, arguments, environment, timeout);

    /// <summary>
    /// The dotnet CLI in a pseudo-terminal (util-linux <c>script</c>), as a person at a terminal runs it: dotnet build
    /// then picks the terminal logger by itself, and <c>dotnet run</c> hands the terminal to the program. The output is
    /// what the terminal received, escape sequences and bare carriage returns and all (<see cref="TerminalText.Visible"/>
    /// reads it).
    /// </summary>
    public static ProcessOutput RunInTerminal(string workingDirectory, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout)
    {
        string commandLine = string.Join(' ', new[] { Executable }.Concat(arguments).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        return Run("script", workingDirectory, ["-qec", commandLine, "/dev/null"], environment, timeout, rawOutput: true);
    }

    /// <summary>Another program (arm-none-eabi-nm, cmake, ...) found on PATH, with the same captured output.</summary>
    public static ProcessOutput RunProgram(string executable, string workingDirectory, IEnumerable<string> arguments, TimeSpan timeout) =>
        Run(executable, workingDirectory, arguments, null, timeout);

    /// <param name="rawOutput">Standard output as it came, not split into lines (a bare carriage return is not a line end).</param>
    private static ProcessOutput Run(string executable, string workingDirectory, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout, bool rawOutput = false)
    {
        var startInfo = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        startInfo.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        // Test runners set these for their own process; a nested build must not inherit them.
        startInfo.Environment.Remove("MSBuildExtensionsPath");
        startInfo.Environment.Remove("MSBuildSDKsPath");
        startInfo.Environment.Remove("MSBUILD_EXE_PATH");
        if (environment != null)
        {
            foreach (var (name, value) in environment)
            {
                if (value == null)
                {
                    startInfo.Environment.Remove(name);
                }
                else
                {
                    startInfo.Environment[name] = value;
                }
            }
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        if (!rawOutput)
        {
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        }
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        var rawStandardOutput = rawOutput ? process.StandardOutput.ReadToEndAsync() : null;
        if (!rawOutput)
        {
            process.BeginOutputReadLine();
        }
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{executable} {string.Join(' ', arguments)} did not finish within {timeout}:\n{output}");
        }
        process.WaitForExit();
        lock (output)
        {
            return new ProcessOutput(process.ExitCode, rawStandardOutput?.Result + output.ToString());
        }
    }

    private static string FindDotNet()
    {
        string? root = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(root) && File.Exists(root))
        {
            return root;
        }
        string? mainModule = Process.GetCurrentProcess().MainModule?.FileName;
        if (mainModule != null && Path.GetFileNameWithoutExtension(mainModule) == "dotnet")
        {
            return mainModule;
        }
        return "dotnet";
    }
}
