namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>Compile-time packing of values into the 32-bit words of two int16 lanes that SMLAD and SXTB16 work on.</summary>
internal static class Int16Pairs
{
    /// <summary>One word: <paramref name="low"/> in the bottom lane, <paramref name="high"/> in the top one.</summary>
    public static int Pack(int low, int high) => unchecked((int)((uint)(ushort)(short)low | ((uint)(ushort)(short)high << 16)));

    /// <summary>int16 values (a multiple of 4) as pairs in SXTB16 order: per 4 values (v0,v2), (v1,v3).</summary>
    public static int[] InSxtb16Order(int[] values)
    {
        var words = new int[values.Length / 2];
        for (int i = 0; i < values.Length; i += 4)
        {
            words[i / 2] = Pack(values[i], values[i + 2]);
            words[i / 2 + 1] = Pack(values[i + 1], values[i + 3]);
        }

        return words;
    }
}
