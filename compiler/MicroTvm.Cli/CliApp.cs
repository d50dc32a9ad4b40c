using System.CommandLine;
using MicroTvm.Cli.Commands;
using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Cli;

/// <summary>
/// The <c>microtvm</c> tool: parses the command line and dispatches to one class per subcommand
/// (<see cref="Commands"/>). Subcommands stay thin: they call the compiler library and format its results.
/// </summary>
public static class CliApp
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var console = new CliConsole(output, error);
        var root = new RootCommand("microtvm: inspect, run and compile TensorFlow Lite models for microcontrollers.");
        foreach (var command in Commands(console))
            root.Subcommands.Add(command);
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        return console.Guard(null, () => root.Parse(args).Invoke(configuration));
    }

    /// <summary>Every subcommand. To add one, write a class with a <c>Create(CliConsole)</c> method and list it here.</summary>
    private static IEnumerable<Command> Commands(CliConsole console) => new[]
    {
        InspectCommand.Create(console),
        RunCommand.Create(console),
        CompileCommand.Create(console),
        RpcTableCommand.Create(console),
        TuneCommand.Create(console),
        EmulateCommand.Create(console),
        TargetsCommand.Create(console),
        MonitorCommand.Create(console),
    };
}

/// <summary>Where a subcommand writes, and the one rule for reporting errors.</summary>
public sealed class CliConsole
{
    public CliConsole(TextWriter output, TextWriter error)
    {
        Output = output;
        Error = error;
    }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    /// <summary>
    /// Runs <paramref name="action"/>; a <see cref="CompilerException"/> is printed as "file: error MTVMxxxx: message"
    /// and anything else as an internal error, both with exit code 1 and never a stack trace. With
    /// <paramref name="diagnosticsFile"/>, each error is also written there as one line of JSON
    /// (<c>{"code":…,"file":…,"message":…}</c>) for build tools: a message that holds a newline (a tensor name from the
    /// model) stays one error there, where the text line could be read as two.
    /// </summary>
    public int Guard(string? file, Func<int> action, string? diagnosticsFile = null)
    {
        try
        {
            return action();
        }
        catch (CompilerException e)
        {
            var located = file is null ? e : e.WithFile(file);
            foreach (var error in located.All)
            {
                Error.WriteLine(error.ToString());
                WriteDiagnostic(diagnosticsFile, error.Code, error.File, error.Message);
            }

            return 1;
        }
        catch (Exception e)
        {
            string message = $"internal compiler error ({e.GetType().Name}: {e.Message}); please report it with the model";
            Error.WriteLine($"{file ?? "microtvm"}: error {ErrorCodes.InternalError}: {message}");
            WriteDiagnostic(diagnosticsFile, ErrorCodes.InternalError, file, message);
            return 1;
        }
    }

    /// <summary>Prints "file: warning MTVMxxxx: message" and, with <paramref name="diagnosticsFile"/>, writes it there
    /// as a JSON line with "severity": "warning".</summary>
    public void Warn(CompilerWarning warning, string? diagnosticsFile)
    {
        Error.WriteLine(warning.ToString());
        WriteDiagnostic(diagnosticsFile, warning.Code, warning.File, warning.Message, "warning");
    }

    private void WriteDiagnostic(string? diagnosticsFile, string code, string? file, string message, string? severity = null)
    {
        if (diagnosticsFile is null)
            return;
        try
        {
            var fields = new Dictionary<string, string?> { ["code"] = code, ["file"] = file, ["message"] = message };
            if (severity is not null) fields["severity"] = severity;
            string line = System.Text.Json.JsonSerializer.Serialize(fields);
            File.AppendAllText(diagnosticsFile, line + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error.WriteLine($"{diagnosticsFile}: error {ErrorCodes.OutputUnwritable}: cannot write the diagnostics file: {e.Message}");
        }
    }
}
