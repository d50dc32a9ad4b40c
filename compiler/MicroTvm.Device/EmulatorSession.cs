using System.Diagnostics;
using System.Text;
using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Device;

/// <summary>
/// A firmware running in its board's emulator with the RPC UART on a loopback socket: QEMU gets the board's arguments
/// plus its RPC arguments with {port} replaced (a second <c>-serial tcp:127.0.0.1:port</c>), connects to our listener,
/// and the console (first serial, stdout) is collected. Disposing kills the emulator.
/// </summary>
public sealed class EmulatorSession : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _console = new();

    private EmulatorSession(Process process, DeviceClient client)
    {
        _process = process;
        Client = client;
    }

    public DeviceClient Client { get; }

    public int ProcessId => _process.Id;

    public string Console
    {
        get
        {
            lock (_console) return _console.ToString();
        }
    }

    public static EmulatorSession Start(string emulator, string boardArguments, string rpcArguments, string elf, TimeSpan timeout)
    {
        if (string.IsNullOrWhiteSpace(rpcArguments) || !rpcArguments.Contains("{port}", StringComparison.Ordinal))
            throw new CompilerException(DeviceErrors.NoTransport, "the board's emulator has no RPC serial port (MicroTvmBoardRpcEmulatorArguments with {port})") { File = elf };
        var listener = TcpTransport.Listen();
        try
        {
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            var start = new ProcessStartInfo(emulator)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var a in CommandLine.Split(boardArguments)) start.ArgumentList.Add(a);
            foreach (var a in CommandLine.Split(rpcArguments.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)))
                start.ArgumentList.Add(a);
            start.ArgumentList.Add("-kernel");
            start.ArgumentList.Add(elf);
            var process = new Process { StartInfo = start };
            var console = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (console) console.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (console) console.AppendLine(e.Data); };
            try
            {
                process.Start();
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                throw new CompilerException(DeviceErrors.EmulatorFailed, $"cannot start the emulator '{emulator}': {e.Message}") { File = elf };
            }

            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var transport = TcpTransport.Accept(listener, TimeSpan.FromSeconds(20), () => process.HasExited);
            if (transport == null)
            {
                string text;
                lock (console) text = console.ToString();
                Kill(process);
                throw new CompilerException(DeviceErrors.EmulatorFailed,
                    $"the emulator did not connect its RPC serial port{(process.HasExited ? $" (it exited with code {process.ExitCode})" : "")}: {text.Trim()}") { File = elf };
            }

            var client = new DeviceClient(transport, elf) { Timeout = timeout };
            var session = new EmulatorSession(process, client);
            lock (console) session._console.Append(console);
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (session._console) session._console.AppendLine(e.Data); };
            client.DeviceGone = () => process.HasExited
                ? $"the emulator exited (code {process.ExitCode}) while the host was talking to the device. Console: {session.Console.Trim()}"
                : null;
            return session;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        Kill(_process);
        _process.Dispose();
    }
}

/// <summary>Splits an argument string as a shell would for plain words, '…' and "…".</summary>
public static class CommandLine
{
    public static List<string> Split(string text)
    {
        var args = new List<string>();
        var current = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char ch in text)
        {
            if (quote != '\0')
            {
                if (ch == quote) quote = '\0';
                else current.Append(ch);
            }
            else if (ch is '"' or '\'')
            {
                quote = ch;
                inWord = true;
            }
            else if (char.IsWhiteSpace(ch))
            {
                if (inWord) args.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else
            {
                current.Append(ch);
                inWord = true;
            }
        }

        if (inWord) args.Add(current.ToString());
        return args;
    }
}
