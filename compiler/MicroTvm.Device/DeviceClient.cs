using System.Buffers.Binary;
using System.Text;
using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Device;

public sealed record DeviceInfo(int ProtocolVersion, int MaxPayload, uint TimerHz, uint CpuClockHz, int ModelCount,
    int OperatorCapacity, string BuildId, string Board, string Cpu);

public sealed record DeviceTensor(int Type, int[] Shape, float Scale, int ZeroPoint, int Bytes);

public sealed record DeviceModel(string Name, int WorkspaceBytes, int OperatorCount, IReadOnlyList<DeviceTensor> Inputs, IReadOnlyList<DeviceTensor> Outputs);

public sealed record DeviceRun(int Status, ulong Ticks);

/// <summary>A TIME_MODEL answer: runs, minimum, maximum and total ticks (of the DWT cycle counter when <paramref name="Cycles"/>).</summary>
public sealed record DeviceTiming(int Runs, ulong Min, ulong Max, ulong Total, bool Cycles);

/// <param name="WorkspaceBytes">All models' workspaces.</param>
/// <param name="StackHighWater">Bytes of the painted stack ever used.</param>
/// <param name="ServerBufferBytes">The server's two frame buffers.</param>
public sealed record DeviceMemory(uint WorkspaceBytes, uint StackHighWater, uint StackSize, uint DataBytes, uint BssBytes, uint ServerBufferBytes);

/// <summary>
/// Calls of the on-device RPC server (docs/rpc.md). Every call waits at most <see cref="Timeout"/> for its answer and
/// sends the request again up to <see cref="Retries"/> times (same sequence number: the server answers a repeat without
/// running it twice); then it fails with MTVM4101. Never blocks longer than (Retries + 1) × Timeout per call.
/// </summary>
public sealed class DeviceClient : IDisposable
{
    private const int ProtocolVersion = 1;
    private readonly IByteTransport _transport;
    private readonly RpcFrameReader _reader = new(65535);
    private ushort _sequence = (ushort)Random.Shared.Next(1, 65536);
    private readonly string _deviceName;

    public DeviceClient(IByteTransport transport, string deviceName)
    {
        _transport = transport;
        _deviceName = deviceName;
    }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    public int Retries { get; set; } = 3;

    /// <summary>Requests sent again (no or a damaged answer) since the client was made.</summary>
    public int Resends { get; private set; }

    /// <summary>Garbage bytes the client skipped between frames.</summary>
    public long SkippedBytes => _reader.Skipped;

    /// <summary>Checked by the transport loop: a dead emulator is reported at once instead of after the timeout.</summary>
    public Func<string?>? DeviceGone { get; set; }

    public DeviceInfo Info { get; private set; } = new(0, 64, 1, 0, 0, 0, "", "", "");

    /// <summary>Sends bytes as they are, outside any call (tests inject garbage and broken frames with it).</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes) => _transport.Write(bytes);

    public DeviceInfo Hello()
    {
        var r = Call(0x00, BitConverter.GetBytes((ushort)ProtocolVersion));
        if (r.Length < 16)
            throw Error(DeviceErrors.Handshake, "the handshake answer is too short: not a MicroTvm RPC server?");
        int version = U16(r, 0);
        if (version != ProtocolVersion)
            throw Error(DeviceErrors.Handshake, $"the device speaks protocol version {version}, this host {ProtocolVersion}; rebuild the firmware with this SDK");
        int at = 16;
        string buildId = Str(r, ref at), board = Str(r, ref at), cpu = Str(r, ref at);
        Info = new DeviceInfo(version, U16(r, 2), U32(r, 4), U32(r, 8), U16(r, 12), U16(r, 14), buildId, board, cpu);
        return Info;
    }

    public byte[] Echo(ReadOnlySpan<byte> data) => Call(0x01, data);

    public DeviceModel DescribeModel(int model)
    {
        var r = Call(0x02, new[] { (byte)model });
        int at = 0;
        string name = Str(r, ref at);
        int workspace = (int)U32(r, at), operators = U16(r, at + 4), inputs = r[at + 6], outputs = r[at + 7];
        at += 8;
        var tensors = new List<DeviceTensor>();
        for (int i = 0; i < inputs + outputs; i++)
        {
            int type = r[at], rank = r[at + 1];
            at += 2;
            var shape = Enumerable.Range(0, rank).Select(d => (int)U32(r, at + 4 * d)).ToArray();
            at += 4 * rank;
            tensors.Add(new DeviceTensor(type, shape, BitConverter.ToSingle(r, at), (int)U32(r, at + 4), (int)U32(r, at + 8)));
            at += 12;
        }

        return new DeviceModel(name, workspace, operators, tensors.Take(inputs).ToList(), tensors.Skip(inputs).ToList());
    }

    private int ChunkSize => Info.MaxPayload - 16;

    public void WriteInput(int model, int input, ReadOnlySpan<byte> data)
    {
        for (int offset = 0; offset < data.Length; offset += ChunkSize)
        {
            var chunk = data.Slice(offset, Math.Min(ChunkSize, data.Length - offset));
            var request = new byte[6 + chunk.Length];
            request[0] = (byte)model;
            request[1] = (byte)input;
            BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(2), (uint)offset);
            chunk.CopyTo(request.AsSpan(6));
            Call(0x03, request);
        }
    }

    /// <summary>Runs the model <paramref name="count"/> times; the on-device ticks of each run.</summary>
    public IReadOnlyList<DeviceRun> Run(int model, int count)
    {
        var runs = new List<DeviceRun>();
        int perCall = Math.Max(1, (Info.MaxPayload - 2) / 12);
        while (runs.Count < count)
        {
            int n = Math.Min(perCall, count - runs.Count);
            var r = Call(0x04, new[] { (byte)model, (byte)n, (byte)(n >> 8) }, allowStatus: 4);
            for (int i = 0; i < n; i++)
                runs.Add(new DeviceRun((int)U32(r, 12 * i), BitConverter.ToUInt64(r, 12 * i + 4)));
        }

        var failed = runs.FirstOrDefault(x => x.Status != 0);
        if (failed != null)
            throw Error(DeviceErrors.CallFailed, $"model {model}'s run function returned {failed.Status} on the device");
        return runs;
    }

    /// <summary>Runs the model <paramref name="repeats"/> times on the device in one call (TIME_MODEL, 0x08) and returns
    /// the minimum, maximum and total time in ticks of the board timer or, with <paramref name="cycles"/>, of the DWT
    /// cycle counter. MTVM4110: the firmware predates the call; MTVM4111: no cycle counter in this build.</summary>
    public DeviceTiming TimeModel(int model, int repeats, bool cycles = false)
    {
        if (repeats is < 1 or > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(repeats));
        var r = Call(0x08, new[] { (byte)model, (byte)repeats, (byte)(repeats >> 8), (byte)(cycles ? 1 : 0) }, allowStatus: cycles ? 6 : 1);
        if (r.Length < 26)
            throw Error(cycles && r.Length == 0 ? DeviceErrors.NoCycleCounter : DeviceErrors.NoTimeCall,
                cycles ? "the firmware has no DWT cycle counter (its board does not define MICROTVM_BOARD_HAS_DWT) or does not know the TIME_MODEL call"
                    : "the firmware does not know the TIME_MODEL call (0x08): rebuild it with this SDK");
        return new DeviceTiming(BitConverter.ToUInt16(r, 0), BitConverter.ToUInt64(r, 2), BitConverter.ToUInt64(r, 10), BitConverter.ToUInt64(r, 18), cycles);
    }

    public byte[] ReadOutput(int model, int output, int bytes)
    {
        var data = new byte[bytes];
        for (int offset = 0; offset < bytes; offset += ChunkSize)
        {
            int n = Math.Min(ChunkSize, bytes - offset);
            var request = new byte[8];
            request[0] = (byte)model;
            request[1] = (byte)output;
            BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(2), (uint)offset);
            BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), (ushort)n);
            Call(0x05, request).CopyTo(data, offset);
        }

        return data;
    }

    /// <summary>Ticks of each operator of the last run, in execution order (profiling builds).</summary>
    public IReadOnlyList<uint> OperatorTimes()
    {
        var ticks = new List<uint>();
        int total;
        do
        {
            var r = Call(0x06, BitConverter.GetBytes((ushort)ticks.Count));
            total = U16(r, 0);
            int count = (r.Length - 4) / 4;
            for (int i = 0; i < count; i++) ticks.Add(U32(r, 4 + 4 * i));
            if (count == 0) break;
        }
        while (ticks.Count < total);
        return ticks;
    }

    public DeviceMemory Memory()
    {
        var r = Call(0x07, ReadOnlySpan<byte>.Empty);
        return new DeviceMemory(U32(r, 0), U32(r, 4), U32(r, 8), U32(r, 12), U32(r, 16), U32(r, 20));
    }

    private static readonly string[] StatusNames = { "ok", "unknown call", "bad argument", "bad CRC", "run failed", "not a profiling build", "no cycle counter" };

    /// <summary>One request, its answer's data (after call and status bytes).</summary>
    public byte[] Call(byte call, ReadOnlySpan<byte> arguments, int allowStatus = -1)
    {
        var payload = new byte[1 + arguments.Length];
        payload[0] = call;
        arguments.CopyTo(payload.AsSpan(1));
        _sequence = (ushort)(_sequence + 1);
        var frame = RpcFrame.Encode(_sequence, payload);
        var buffer = new byte[4096];
        for (int attempt = 0; attempt <= Retries; attempt++)
        {
            if (attempt > 0) Resends++;
            try
            {
                _transport.Write(frame);
                var deadline = DateTime.UtcNow + Timeout;
                while (DateTime.UtcNow < deadline)
                {
                    string? gone = DeviceGone?.Invoke();
                    if (gone != null) throw Error(DeviceErrors.EmulatorFailed, gone);
                    int n = _transport.Read(buffer, TimeSpan.FromMilliseconds(Math.Min(200, Math.Max(1, (deadline - DateTime.UtcNow).TotalMilliseconds))));
                    _reader.Add(buffer.AsSpan(0, n));
                    bool resend = false;
                    while (_reader.Next() is { } answer)
                    {
                        var p = answer.Payload;
                        if (p.Length >= 2 && p[0] == 0xFF && p[1] == 3 && answer.Sequence == _sequence)
                        {
                            resend = true; // the device saw our frame damaged: send it again now
                            break;
                        }

                        if (answer.Sequence != _sequence || p.Length < 2 || p[0] != call) continue; // a stale answer
                        if (p[1] != 0 && p[1] != allowStatus)
                        {
                            string status = p[1] < StatusNames.Length ? StatusNames[p[1]] : $"status {p[1]}";
                            throw Error(DeviceErrors.CallFailed, $"the device rejected call {call} ({status})");
                        }

                        return p.AsSpan(2).ToArray();
                    }

                    if (resend) break;
                }
            }
            catch (IOException e)
            {
                string? gone = DeviceGone?.Invoke();
                throw Error(gone != null ? DeviceErrors.EmulatorFailed : DeviceErrors.NoAnswer, gone ?? $"the connection to the device broke ({e.Message})");
            }
        }

        throw Error(DeviceErrors.NoAnswer, $"the device did not answer call {call} within {Timeout.TotalSeconds:0.#} s ({Retries + 1} attempts); is the RPC server running and the transport connected?");
    }

    private CompilerException Error(string code, string message) => new(code, message) { File = _deviceName };

    private static int U16(byte[] b, int at) => b[at] | (b[at + 1] << 8);

    private static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));

    private static string Str(byte[] b, ref int at)
    {
        int n = b[at];
        string s = Encoding.UTF8.GetString(b, at + 1, n);
        at += 1 + n;
        return s;
    }

    public void Dispose() => _transport.Dispose();
}
