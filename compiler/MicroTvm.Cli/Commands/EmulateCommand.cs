using System.CommandLine;
using MicroTvm.Build.Tasks;

namespace MicroTvm.Cli.Commands;

/// <summary>
/// <c>microtvm emulate firmware.elf --emulator qemu-system-arm [--timeout S] -- emulator arguments</c>: the SDK's
/// sandboxed run of a firmware (the same <see cref="FirmwareRun"/> as <c>-t:Run</c>) with its console on standard
/// output as it comes. <c>dotnet run</c> of a firmware project starts this, so the console is live whatever logger the
/// build used. Exit code: the firmware's; 1 with "file: error MTVMxxxx: ..." on standard error for a crash, a time-out,
/// refused semihosting or an emulator that could not run it (where the exit code says nothing, e.g. a killed emulator).
/// </summary>
public static class EmulateCommand
{
    public static Command Create(CliConsole console)
    {
        var firmware = new Argument<string>("firmware") { Description = "The firmware's .elf." };
        var emulatorArguments = new Argument<string[]>("emulator-arguments") { Description = "The board's emulator arguments (after --).", Arity = ArgumentArity.ZeroOrMore };
        var emulator = new Option<string>("--emulator") { Description = "The emulator executable (qemu-system-arm).", Required = true };
        var timeout = new Option<int>("--timeout") { Description = "Stop the firmware after this many seconds (0: no limit).", DefaultValueFactory = _ => 0 };
        var command = new Command("emulate", "Run a firmware in its board's emulator, sandboxed as -t:Run does, with the console on standard output.")
        {
            firmware, emulatorArguments, emulator, timeout,
        };
        command.SetAction(parse =>
        {
            string elf = parse.GetValue(firmware)!;
            bool cancelled = false;
            ConsoleCancelEventHandler stop = (_, e) => { e.Cancel = true; cancelled = true; };
            Console.CancelKeyPress += stop;
            try
            {
                var result = FirmwareRun.Run(parse.GetValue(emulator)!, parse.GetValue(emulatorArguments) ?? [], elf, parse.GetValue(timeout),
                    Directory.GetCurrentDirectory(), _ => { }, line => { console.Output.WriteLine(line); console.Output.Flush(); }, () => cancelled);
                if (result.Cancelled)
                    return 130;
                if (result.ErrorCode is null)
                    return result.ExitCode;
                // The console is already on standard output: the error gives the reason, not the console's last lines again.
                console.Error.WriteLine($"{elf}: error {result.ErrorCode}: {result.ErrorText}");
                return result.ExitCode > 0 ? result.ExitCode : 1;
            }
            finally
            {
                Console.CancelKeyPress -= stop;
            }
        });
        return command;
    }
}
