namespace MicroTvm.Device;

/// <summary>The frame format of docs/rpc.md, the same as crt/rpc/rpc_frame.c: sync 0xA5 0x4D, payload length
/// (u16), sequence (u16), CRC-8 of those six bytes, payload, CRC-32 (IEEE) of everything before it.</summary>
public static class RpcFrame
{
    public const byte Sync0 = 0xA5;
    public const byte Sync1 = 0x4D;
    public const int HeaderSize = 7;
    public const int TrailerSize = 4;

    public static byte[] Encode(ushort sequence, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderSize + payload.Length + TrailerSize];
        frame[0] = Sync0;
        frame[1] = Sync1;
        frame[2] = (byte)payload.Length;
        frame[3] = (byte)(payload.Length >> 8);
        frame[4] = (byte)sequence;
        frame[5] = (byte)(sequence >> 8);
        frame[6] = Crc8(frame.AsSpan(0, 6));
        payload.CopyTo(frame.AsSpan(HeaderSize));
        uint crc = Crc32(frame.AsSpan(0, HeaderSize + payload.Length));
        BitConverter.TryWriteBytes(frame.AsSpan(HeaderSize + payload.Length), crc);
        return frame;
    }

    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }

        return ~crc;
    }

    public static byte Crc8(ReadOnlySpan<byte> data)
    {
        byte crc = 0;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
                crc = (byte)((crc & 0x80) != 0 ? (crc << 1) ^ 0x07 : crc << 1);
        }

        return crc;
    }
}

/// <summary>Finds frames in a byte stream, skipping garbage (console text, noise, damaged frames) the way the
/// device's parser does: a length is trusted only after the header check and the maximum.</summary>
public sealed class RpcFrameReader
{
    private readonly List<byte> _held = new();
    private readonly int _maxPayload;

    public RpcFrameReader(int maxPayload) => _maxPayload = maxPayload;

    /// <summary>Bytes skipped so far (garbage between frames).</summary>
    public long Skipped { get; private set; }

    public void Add(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) _held.Add(b);
    }

    /// <summary>The next complete, checked frame's (sequence, payload), or null when more bytes are needed.</summary>
    public (ushort Sequence, byte[] Payload)? Next()
    {
        while (true)
        {
            if (_held.Count == 0) return null;
            if (_held[0] != RpcFrame.Sync0 || (_held.Count >= 2 && _held[1] != RpcFrame.Sync1))
            {
                Drop();
                continue;
            }

            if (_held.Count < RpcFrame.HeaderSize) return null;
            var header = _held.GetRange(0, RpcFrame.HeaderSize).ToArray();
            int length = header[2] | (header[3] << 8);
            if (RpcFrame.Crc8(header.AsSpan(0, 6)) != header[6] || length > _maxPayload)
            {
                Drop();
                continue;
            }

            int total = RpcFrame.HeaderSize + length + RpcFrame.TrailerSize;
            if (_held.Count < total) return null;
            var frame = _held.GetRange(0, total).ToArray();
            if (RpcFrame.Crc32(frame.AsSpan(0, total - 4)) != BitConverter.ToUInt32(frame, total - 4))
            {
                Drop();
                continue;
            }

            _held.RemoveRange(0, total);
            return ((ushort)(header[4] | (header[5] << 8)), frame.AsSpan(RpcFrame.HeaderSize, length).ToArray());
        }
    }

    private void Drop()
    {
        int next = 1;
        while (next < _held.Count && _held[next] != RpcFrame.Sync0) next++;
        _held.RemoveRange(0, next);
        Skipped += next;
    }
}
