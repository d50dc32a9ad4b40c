using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR as TensorFlow Lite Micro computes them. The source coordinates depend
/// only on the output row or column, so they are computed once per axis (<see cref="Axis"/>); the generated C reads the
/// same values from constant tables.
/// <list type="bullet">
/// <item>Nearest: scale = in/out (align_corners: (in-1)/(out-1)) in float; source = floor((i + offset)·scale), or
/// round-half-away with align_corners; offset 0.5 with half_pixel_centers; clamped to [0, in-1].</item>
/// <item>Bilinear float32: s = i·scale, or (i + 0.5)·scale - 0.5 with half_pixel_centers; lo = max(floor s, 0),
/// hi = min(ceil s, in-1), f = s - lo (negative near the edge with half_pixel_centers, as in TFLM); the value is
/// v00·(1-fy)·(1-fx) + v10·fy·(1-fx) + v01·(1-fy)·fx + v11·fy·fx + 0, in that order.</item>
/// <item>Bilinear int8: the same in 10-bit fixed point (scale rounded to 1/1024, truncating divisions), weights
/// multiplied in int64, the sum rounded half away from zero by 2^20.</item>
/// </list>
/// </summary>
internal static class ResizeReference
{
    /// <summary>One axis's source coordinates per output index: Lo, Hi and the fraction F (float32: F is the float
    /// fraction's bits; int8: F is in 1/1024). Nearest uses Lo only.</summary>
    public sealed record Axis(int[] Lo, int[] Hi, float[] Fraction, int[] Fraction10);

    public static Axis Coordinates(int inSize, int outSize, ResizeAttributes a, bool bilinear, bool integer)
    {
        var lo = new int[outSize];
        var hi = new int[outSize];
        var fraction = new float[outSize];
        var fraction10 = new int[outSize];
        float scale = a.AlignCorners && outSize > 1 ? (inSize - 1) / (float)(outSize - 1) : inSize / (float)outSize;
        int scale10 = a.AlignCorners && outSize > 1
            ? ((1 << 10) * (inSize - 1) + (outSize - 1) / 2) / (outSize - 1)
            : ((1 << 10) * inSize + outSize / 2) / outSize;
        for (int i = 0; i < outSize; i++)
        {
            if (!bilinear)
            {
                float source = (i + (a.HalfPixelCenters ? 0.5f : 0f)) * scale;
                int nearest = Math.Min((int)(a.AlignCorners ? MathF.Round(source, MidpointRounding.AwayFromZero) : MathF.Floor(source)), inSize - 1);
                lo[i] = a.HalfPixelCenters ? Math.Max(0, nearest) : nearest;
            }
            else if (integer)
            {
                int s = a.HalfPixelCenters ? i * scale10 + scale10 / 2 - (1 << 9) : i * scale10;
                lo[i] = Math.Max(s / (1 << 10), 0);
                hi[i] = Math.Min((s + (1 << 10) - 1) / (1 << 10), inSize - 1);
                fraction10[i] = s - (1 << 10) * lo[i];
            }
            else
            {
                float s = a.HalfPixelCenters ? ((float)i + 0.5f) * scale - 0.5f : (float)i * scale;
                lo[i] = Math.Max((int)MathF.Floor(s), 0);
                hi[i] = Math.Min((int)MathF.Ceiling(s), inSize - 1);
                fraction[i] = s - lo[i];
            }
        }

        return new Axis(lo, hi, fraction, fraction10);
    }

    public static void Evaluate(Node node, TensorValues values, bool bilinear)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type) throw ReferenceErrors.Unsupported(node);
        var a = node.AttributesAs<ResizeAttributes>();
        int batches = input.Shape[0], inH = input.Shape[1], inW = input.Shape[2], depth = input.Shape[3];
        bool isFloat = input.Type == ElementType.Float32;
        var ys = Coordinates(inH, a.Height, a, bilinear, !isFloat);
        var xs = Coordinates(inW, a.Width, a, bilinear, !isFloat);
        int At(int b, int y, int x, int c) => ((b * inH + y) * inW + x) * depth + c;
        int count = batches * a.Height * a.Width * depth;
        if (!bilinear)
        {
            var bytes = values.Bytes(input);
            int size = input.Type.SizeInBytes();
            var result = new byte[(long)count * size];
            int o = 0;
            for (int b = 0; b < batches; b++)
                for (int y = 0; y < a.Height; y++)
                    for (int x = 0; x < a.Width; x++, o += depth)
                        Array.Copy(bytes, (long)At(b, ys.Lo[y], xs.Lo[x], 0) * size, result, (long)o * size, (long)depth * size);
            values.SetBytes(output, result);
            return;
        }

        if (isFloat)
        {
            var v = values.Floats(input);
            var result = new float[count];
            int o = 0;
            for (int b = 0; b < batches; b++)
                for (int y = 0; y < a.Height; y++)
                    for (int x = 0; x < a.Width; x++)
                        for (int c = 0; c < depth; c++)
                        {
                            float fy = ys.Fraction[y], fx = xs.Fraction[x];
                            var (y0, y1, x0, x1) = (ys.Lo[y], ys.Hi[y], xs.Lo[x], xs.Hi[x]);
                            result[o++] = v[At(b, y0, x0, c)] * (1 - fy) * (1 - fx) + v[At(b, y1, x0, c)] * fy * (1 - fx)
                                + v[At(b, y0, x1, c)] * (1 - fy) * fx + v[At(b, y1, x1, c)] * fy * fx + 0f;
                        }

            values.SetFloats(output, result);
            return;
        }

        if (input.Type != ElementType.Int8) throw ReferenceErrors.Unsupported(node);
        var vi = values.Ints(input);
        var ri = new int[count];
        int k = 0;
        for (int b = 0; b < batches; b++)
            for (int y = 0; y < a.Height; y++)
                for (int x = 0; x < a.Width; x++)
                    for (int c = 0; c < depth; c++)
                    {
                        long fy = ys.Fraction10[y], fx = xs.Fraction10[x];
                        var (y0, y1, x0, x1) = (ys.Lo[y], ys.Hi[y], xs.Lo[x], xs.Hi[x]);
                        long sum = vi[At(b, y0, x0, c)] * (1024 - fy) * (1024 - fx) + vi[At(b, y1, x0, c)] * fy * (1024 - fx)
                            + vi[At(b, y0, x1, c)] * (1024 - fy) * fx + vi[At(b, y1, x1, c)] * fy * fx;
                        ri[k++] = (int)((sum + (sum > 0 ? 1L << 19 : -(1L << 19))) / (1L << 20));
                    }

        values.SetInts(output, ri);
    }
}
