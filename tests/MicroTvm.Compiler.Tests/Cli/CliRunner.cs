using MicroTvm.Cli;

namespace MicroTvm.Compiler.Tests.Cli;

/// <summary>Runs the mtvm command line in-process, capturing what it writes.</summary>
public static class CliRunner
{
    public static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = CliApp.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
