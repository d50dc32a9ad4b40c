using System.Buffers.Binary;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// The values of a graph's tensors during evaluation, as little-endian bytes, with typed views for the kernels:
/// integer tensors are read as int (or long for int64), float tensors as float.
/// </summary>
internal sealed class TensorValues
{
    private readonly Dictionary<Tensor, byte[]> _bytes = new();

    public IReadOnlyDictionary<Tensor, byte[]> All => _bytes;

    public byte[] Bytes(Tensor tensor) => tensor.Data ?? _bytes[tensor];

    public void SetBytes(Tensor tensor, byte[] bytes) => _bytes[tensor] = bytes;

    public int[] Ints(Tensor tensor)
    {
        var bytes = Bytes(tensor);
        var values = new int[tensor.ElementCount];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = tensor.Type switch
            {
                ElementType.Int8 => (sbyte)bytes[i],
                ElementType.UInt8 or ElementType.Bool => bytes[i],
                ElementType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * i)),
                ElementType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i)),
                _ => throw new InvalidOperationException($"{tensor} is not a 32-bit-or-narrower integer tensor"),
            };
        }

        return values;
    }

    public long[] Longs(Tensor tensor)
    {
        if (tensor.Type != ElementType.Int64) return Array.ConvertAll(Ints(tensor), v => (long)v);
        var bytes = Bytes(tensor);
        var values = new long[tensor.ElementCount];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8 * i));
        return values;
    }

    public float[] Floats(Tensor tensor)
    {
        if (tensor.Type != ElementType.Float32) throw new InvalidOperationException($"{tensor} is not a float32 tensor");
        var bytes = Bytes(tensor);
        var values = new float[tensor.ElementCount];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
        return values;
    }

    /// <summary>Stores integer values; each must already lie in the element type's range (kernels clamp).</summary>
    public void SetInts(Tensor tensor, int[] values)
    {
        var bytes = new byte[tensor.ByteSize];
        for (int i = 0; i < values.Length; i++)
        {
            switch (tensor.Type)
            {
                case ElementType.Int8: bytes[i] = (byte)checked((sbyte)values[i]); break;
                case ElementType.UInt8:
                case ElementType.Bool: bytes[i] = checked((byte)values[i]); break;
                case ElementType.Int16: BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(2 * i), checked((short)values[i])); break;
                case ElementType.Int32: BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), values[i]); break;
                default: throw new InvalidOperationException($"{tensor} is not a 32-bit-or-narrower integer tensor");
            }
        }

        _bytes[tensor] = bytes;
    }

    public void SetFloats(Tensor tensor, float[] values)
    {
        var bytes = new byte[tensor.ByteSize];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        _bytes[tensor] = bytes;
    }
}
