using System.CommandLine;
using System.Text;
using MicroTvm.Device;
using TaskErrorCodes = MicroTvm.Build.Tasks.ErrorCodes;

namespace MicroTvm.Cli.Commands;

/// <summary>
/// <c>microtvm monitor --port /dev/ttyACM0 [--baud 115200] [--timeout S]</c>: a board's console through System.IO.Ports
/// (8N1, no handshake), line by line on standard output until Ctrl+C, the time limit, or the port closing (the board
/// unplugged, the pseudo-terminal's other end gone). <c>dotnet build -t:Monitor</c> starts it with the board's port and
/// baud rate. A port that cannot be opened is MTVM4054.
/// </summary>
public static class MonitorCommand
{
    public static Command Create(CliConsole console)
    {
        var port = new Option<string>("--port") { Description = "The serial port (/dev/ttyACM0, COM3, a pseudo-terminal).", Required = true };
        var baud = new Option<int>("--baud") { Description = "Baud rate (8N1).", DefaultValueFactory = _ => 115200 };
        var timeout = new Option<int>("--timeout") { Description = "Stop after this many seconds (0: until Ctrl+C or the port closes).", DefaultValueFactory = _ => 0 };
        var prefix = new Option<string>("--line-prefix") { Description = "Text before each console line.", DefaultValueFactory = _ => "" };
        var command = new Command("monitor", "Show a board's serial console until Ctrl+C, --timeout or the port closes.") { port, baud, timeout, prefix };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(port)!;
            int seconds = parse.GetValue(timeout);
            string linePrefix = parse.GetValue(prefix) ?? "";
            bool stopped = false;
            ConsoleCancelEventHandler stop = (_, e) => { e.Cancel = true; stopped = true; };
            Console.CancelKeyPress += stop;
            SerialTransport serial;
            try
            {
                serial = new SerialTransport(name, parse.GetValue(baud));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                Console.CancelKeyPress -= stop;
                console.Error.WriteLine($"{name}: error {TaskErrorCodes.MonitorFailed}: cannot open the serial port {name} at {parse.GetValue(baud)} baud: {e.Message} Is the board connected, and is MonitorPort its console port?");
                return 1;
            }
            string device = name.StartsWith('/') ? ResolvedDevice(name) : name;
            console.Output.WriteLine($"monitor: {name} at {parse.GetValue(baud)} baud 8N1; Ctrl+C ends{(seconds > 0 ? $", or {seconds} s" : "")}.");
            console.Output.Flush();
            var deadline = seconds > 0 ? DateTime.UtcNow.AddSeconds(seconds) : DateTime.MaxValue;
            var line = new StringBuilder();
            var decoder = Encoding.UTF8.GetDecoder();
            var buffer = new byte[512];
            var chars = new char[1024];
            int lines = 0;
            string ended = "Ctrl+C";
            try
            {
                using (serial)
                {
                    while (!stopped)
                    {
                        if (DateTime.UtcNow >= deadline)
                        {
                            ended = $"the time limit ({seconds} s)";
                            break;
                        }
                        int count;
                        try
                        {
                            count = serial.Read(buffer, TimeSpan.FromMilliseconds(200));
                        }
                        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or UnauthorizedAccessException)
                        {
                            ended = "the port closing";
                            break;
                        }
                        // System.IO.Ports on Unix does not report a closed port: its device node is gone (a USB board
                        // unplugged, a pseudo-terminal whose other end closed). COM ports are no files.
                        if (count == 0 && name.StartsWith('/') && !File.Exists(device))
                        {
                            ended = "the port closing";
                            break;
                        }
                        int decoded = decoder.GetChars(buffer, 0, count, chars, 0);
                        for (int i = 0; i < decoded; i++)
                        {
                            char c = chars[i];
                            if (c == '\n')
                            {
                                console.Output.WriteLine(linePrefix + line.ToString().TrimEnd('\r'));
                                line.Clear();
                                lines++;
                            }
                            else
                            {
                                line.Append(c);
                            }
                        }
                        console.Output.Flush();
                    }
                }
            }
            finally
            {
                Console.CancelKeyPress -= stop;
            }
            if (line.Length > 0)
            {
                console.Output.WriteLine(linePrefix + line.ToString().TrimEnd('\r'));
                lines++;
            }
            console.Output.WriteLine($"monitor: {name}: {lines} line{(lines == 1 ? "" : "s")}, ended by {ended}.");
            return 0;
        });
        return command;
    }

    /// <summary>The device a link (socat's, udev's /dev/serial/by-id/...) names, so the check sees the device itself go.</summary>
    private static string ResolvedDevice(string path)
    {
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
        return target?.FullName ?? path;
    }
}
