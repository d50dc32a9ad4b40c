using System.CommandLine;
using MicroTvm.Compiler.Codegen;

namespace MicroTvm.Cli.Commands;

/// <summary><c>microtvm targets</c>: each compiler target and the gcc flags that select its CPU, tab-separated (the one
/// list, <see cref="Targets"/>; scripts such as eng/codegen-report.sh read the flags from here).</summary>
public static class TargetsCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("targets", "List the compiler's targets and the gcc flags that select each CPU (name, tab, flags).");
        command.SetAction(_ =>
        {
            foreach (var target in Targets.All)
                console.Output.WriteLine($"{target.Name}\t{target.GccFlags}");
            return 0;
        });
        return command;
    }
}
