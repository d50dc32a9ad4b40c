using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Refuses and records the firmware's requests for host services. QEMU runs with
    /// <c>-semihosting-config target=gdb</c>: it still ends the run itself on SYS_EXIT (the exit code), but hands
    /// every semihosting call that would touch the host (open, write, remove, rename, system, ...) to the gdb stub as
    /// a File-I/O request. This is the stub's client on a loopback socket that QEMU connects to; it answers each
    /// request with EPERM and keeps its name, so the run fails (MTVM4012) instead of the host file being written or
    /// the command run. A minimal GDB remote protocol client: packets <c>$data#checksum</c>, acknowledged with '+'.
    /// With a debugger port (-t:Debug) it is a proxy instead: a debugger (gdb) that connects to 127.0.0.1:port talks to
    /// the stub through it and controls the firmware, and only the File-I/O requests are kept from it and refused here,
    /// so a debugged firmware has no more host access than a run one (gdb would carry them out on the host).
    /// </summary>
    internal sealed class SemihostingGuard : IDisposable
    {
        private const string ChardevId = "microtvm-semihosting";
        // GDB File-I/O errno EPERM.
        private const string RefusalReply = "F-1,1";

        private static readonly Dictionary<string, string> SemihostingCalls = new Dictionary<string, string>
        {
            ["open"] = "SYS_OPEN",
            ["close"] = "SYS_CLOSE",
            ["read"] = "SYS_READ or SYS_READC",
            ["write"] = "SYS_WRITE, SYS_WRITEC or SYS_WRITE0",
            ["lseek"] = "SYS_SEEK",
            ["fstat"] = "SYS_FLEN",
            ["isatty"] = "SYS_ISTTY",
            ["unlink"] = "SYS_REMOVE",
            ["rename"] = "SYS_RENAME",
            ["system"] = "SYS_SYSTEM",
            ["gettimeofday"] = "SYS_TIME",
        };

        private readonly TcpListener listener;
        private readonly List<string> refused = new List<string>();
        private readonly TcpListener? debuggerListener;
        private readonly object emulatorWrite = new object();
        private TcpClient? client;
        private Thread? reader;
        private int? exitStatus;
        private volatile NetworkStream? debugger;

        /// <param name="debuggerPort">-t:Debug: the loopback port a debugger connects to (0: any free port); null for a run.</param>
        public SemihostingGuard(int? debuggerPort = null)
        {
            listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start(1);
            if (debuggerPort != null)
            {
                debuggerListener = new TcpListener(IPAddress.Loopback, debuggerPort.Value);
                try
                {
                    debuggerListener.Start(1);
                }
                catch (SocketException)
                {
                    listener.Stop();
                    throw;
                }
            }
        }

        /// <summary>The port a debugger connects to (-t:Debug), or 0.</summary>
        public int DebuggerPort => debuggerListener == null ? 0 : ((IPEndPoint)debuggerListener.LocalEndpoint).Port;

        private int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        /// <summary>QEMU connects its gdb stub to this guard and starts paused (-S) until the guard is attached.</summary>
        public IEnumerable<string> EmulatorArguments => new[]
        {
            "-chardev", $"socket,id={ChardevId},host=127.0.0.1,port={Port},server=off",
            "-gdb", "chardev:" + ChardevId,
            "-S",
        };

        /// <summary>The refused requests, as "system (SYS_SYSTEM)", in the order they came.</summary>
        public IReadOnlyList<string> Refused
        {
            get
            {
                lock (refused)
                {
                    return refused.ToList();
                }
            }
        }

        /// <summary>True once the emulator's gdb stub connected.</summary>
        public bool Attached => client != null;

        /// <summary>
        /// The exit status the emulator reported to its gdb stub ("W" packet) when the firmware ended the run through
        /// semihosting; null if it never did (the emulator was killed, or stopped otherwise). Waits for the stub's last
        /// packets first: call it after the emulator exited.
        /// </summary>
        public int? ReportedExitStatus()
        {
            reader?.Join(2000);
            lock (refused)
            {
                return exitStatus;
            }
        }

        /// <summary>
        /// Waits for the emulator to connect, then lets it run. False if it exited or <paramref name="stop"/> said
        /// so first, or it did not connect in time.
        /// </summary>
        public bool Attach(Process emulator, TimeSpan timeout, Func<bool> stop)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!listener.Pending())
            {
                if (emulator.HasExited || stop() || DateTime.UtcNow > deadline)
                {
                    return false;
                }
                Thread.Sleep(10);
            }
            client = listener.AcceptTcpClient();
            client.NoDelay = true;
            listener.Stop();
            var stream = client.GetStream();
            if (debuggerListener == null)
            {
                Send(stream, "c");
            }
            else
            {
                // The firmware stays stopped at reset until a debugger connects and continues it.
                new Thread(() => AcceptDebuggers(stream)) { IsBackground = true, Name = "MicroTvm debugger proxy" }.Start();
            }
            reader = new Thread(() => Serve(stream)) { IsBackground = true, Name = "MicroTvm semihosting guard" };
            reader.Start();
            return true;
        }

        /// <summary>One debugger at a time; what it sends goes to the stub as it is. A debugger that disconnects can come back.</summary>
        private void AcceptDebuggers(NetworkStream emulator)
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    using (var connection = debuggerListener!.AcceptTcpClient())
                    {
                        connection.NoDelay = true;
                        var stream = connection.GetStream();
                        debugger = stream;
                        int count;
                        while ((count = stream.Read(buffer, 0, buffer.Length)) > 0)
                        {
                            lock (emulatorWrite)
                            {
                                emulator.Write(buffer, 0, count);
                            }
                        }
                        debugger = null;
                    }
                }
            }
            catch (Exception e) when (e is System.IO.IOException || e is ObjectDisposedException || e is SocketException || e is InvalidOperationException)
            {
                // The emulator exited, or the guard was disposed.
            }
        }

        private void Serve(NetworkStream stream)
        {
            var packet = new StringBuilder();
            var raw = new List<byte>();
            bool inPacket = false;
            int checksumDigits = -1;
            var buffer = new byte[4096];
            try
            {
                int count;
                while ((count = stream.Read(buffer, 0, buffer.Length)) > 0)
                {
                    for (int i = 0; i < count; i++)
                    {
                        char c = (char)buffer[i];
                        if (checksumDigits >= 0)
                        {
                            raw.Add(buffer[i]);
                            // The checksum is not verified: a loopback socket does not corrupt bytes.
                            if (++checksumDigits == 2)
                            {
                                checksumDigits = -1;
                                string text = packet.ToString();
                                if (debuggerListener == null || text.StartsWith("F", StringComparison.Ordinal))
                                {
                                    Write(stream, new[] { (byte)'+' });
                                    Handle(stream, text);
                                }
                                else
                                {
                                    Handle(stream, text);
                                    Forward(raw.ToArray());
                                }
                                packet.Clear();
                                raw.Clear();
                            }
                        }
                        else if (c == '$')
                        {
                            inPacket = true;
                            packet.Clear();
                            raw.Clear();
                            raw.Add(buffer[i]);
                        }
                        else if (inPacket && c == '#')
                        {
                            inPacket = false;
                            checksumDigits = 0;
                            raw.Add(buffer[i]);
                        }
                        else if (inPacket)
                        {
                            packet.Append(c);
                            raw.Add(buffer[i]);
                        }
                        else
                        {
                            // Outside a packet: '+' acknowledges what the debugger (or the guard) sent.
                            Forward(new[] { buffer[i] });
                        }
                    }
                }
            }
            catch (Exception e) when (e is System.IO.IOException || e is ObjectDisposedException || e is SocketException)
            {
                // The emulator exited and closed the socket.
            }
            finally
            {
                // The debugger sees the end of the stub ("Remote connection closed").
                debugger?.Dispose();
            }
        }

        /// <summary>Proxy: the stub's bytes to the connected debugger, if any (none connected: nobody asked).</summary>
        private void Forward(byte[] bytes)
        {
            var target = debugger;
            if (debuggerListener == null || target == null)
            {
                return;
            }
            try
            {
                target.Write(bytes, 0, bytes.Length);
            }
            catch (Exception e) when (e is System.IO.IOException || e is ObjectDisposedException)
            {
                // The debugger went away.
            }
        }

        private void Write(NetworkStream stream, byte[] bytes)
        {
            lock (emulatorWrite)
            {
                stream.Write(bytes, 0, bytes.Length);
            }
        }

        private void Handle(NetworkStream stream, string packet)
        {
            if (packet.StartsWith("F", StringComparison.Ordinal))
            {
                string call = new string(packet.Skip(1).TakeWhile(char.IsLetter).ToArray());
                lock (refused)
                {
                    refused.Add(SemihostingCalls.TryGetValue(call, out var name) ? $"{call} ({name})" : call);
                }
                Send(stream, RefusalReply);
            }
            else if (debuggerListener == null && (packet.StartsWith("T", StringComparison.Ordinal) || packet.StartsWith("S", StringComparison.Ordinal)))
            {
                // A stop nobody asked for: let the firmware go on.
                Send(stream, "c");
            }
            else if (packet.StartsWith("W", StringComparison.Ordinal) && packet.Length >= 3
                && int.TryParse(packet.Substring(1, 2), System.Globalization.NumberStyles.HexNumber, null, out int status))
            {
                // The firmware ended the run (SYS_EXIT): QEMU reports the status, then exits with it.
                lock (refused)
                {
                    exitStatus = status;
                }
            }
            // X: the emulator is ending on a signal; no exit status.
        }

        private void Send(NetworkStream stream, string data)
        {
            int sum = data.Aggregate(0, (total, c) => (total + c) & 0xFF);
            Write(stream, Encoding.ASCII.GetBytes($"${data}#{sum:x2}"));
        }

        public void Dispose()
        {
            listener.Stop();
            debuggerListener?.Stop();
            client?.Dispose();
            reader?.Join(2000);
        }
    }
}
