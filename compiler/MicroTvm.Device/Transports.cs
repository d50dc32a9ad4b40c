using System.IO.Ports;
using System.Net;
using System.Net.Sockets;

namespace MicroTvm.Device;

/// <summary>A byte pipe to the device.</summary>
public interface IByteTransport : IDisposable
{
    void Write(ReadOnlySpan<byte> data);

    /// <summary>Reads what is available, waiting at most <paramref name="timeout"/>; 0 on timeout. Throws
    /// <see cref="IOException"/> when the other end is gone.</summary>
    int Read(Span<byte> buffer, TimeSpan timeout);
}

/// <summary>TCP: QEMU's serial port as a client of a socket we listen on (<c>-serial tcp:127.0.0.1:port</c>).</summary>
public sealed class TcpTransport : IByteTransport
{
    private readonly Socket _socket;

    public TcpTransport(Socket connected) => _socket = connected;

    /// <summary>A listener on a free loopback port; start the emulator with <c>-serial tcp:127.0.0.1:&lt;port&gt;</c>, then <see cref="Accept"/>.</summary>
    public static TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        return listener;
    }

    /// <summary>Waits for the emulator to connect; null after <paramref name="timeout"/> or when <paramref name="gaveUp"/> says so.</summary>
    public static TcpTransport? Accept(TcpListener listener, TimeSpan timeout, Func<bool> gaveUp)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !gaveUp())
        {
            if (listener.Pending())
            {
                var socket = listener.AcceptSocket();
                socket.NoDelay = true;
                return new TcpTransport(socket);
            }

            Thread.Sleep(10);
        }

        return null;
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        try
        {
            while (!data.IsEmpty) data = data[_socket.Send(data)..];
        }
        catch (SocketException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    public int Read(Span<byte> buffer, TimeSpan timeout)
    {
        try
        {
            if (!_socket.Poll((int)Math.Min(int.MaxValue, timeout.Ticks / 10), SelectMode.SelectRead)) return 0;
            int n = _socket.Receive(buffer);
            if (n == 0) throw new IOException("the device closed the connection");
            return n;
        }
        catch (SocketException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>A serial port (real boards; a pseudo-terminal in tests) through System.IO.Ports, 8N1, raw bytes.</summary>
public sealed class SerialTransport : IByteTransport
{
    private readonly SerialPort _port;

    public SerialTransport(string portName, int baudRate = 115200)
    {
        _port = new SerialPort(portName, baudRate, Parity.None, 8, StopBits.One) { Handshake = Handshake.None, ReadTimeout = 5000 }; // reads only take bytes already waiting (Read)
        _port.Open();
        _port.DiscardInBuffer();
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        var bytes = data.ToArray();
        _port.Write(bytes, 0, bytes.Length);
    }

    /// <remarks>
    /// System.IO.Ports on Unix loses the bytes of a read that times out just as they arrive: its I/O loop checks that the
    /// request is still pending, the timeout completes it, the loop then reads the bytes into it and they are dropped (a
    /// console line missing from -t:Monitor). So a read is issued only for bytes the driver already holds, and the
    /// waiting is done here.
    /// </remarks>
    public int Read(Span<byte> buffer, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (!_port.IsOpen) throw new IOException("the serial port was closed");
            int waiting = _port.BytesToRead;
            if (waiting > 0)
            {
                var chunk = new byte[Math.Min(waiting, buffer.Length)];
                int n = _port.Read(chunk, 0, chunk.Length);
                chunk.AsSpan(0, n).CopyTo(buffer);
                return n;
            }
            if (DateTime.UtcNow >= deadline) return 0;
            Thread.Sleep(1);
        }
    }

    public void Dispose() => _port.Dispose();
}
