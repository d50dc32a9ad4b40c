using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>SOFTMAX over the last dimension.</summary>
internal static class SoftmaxKernel
{
    public static void Softmax(Node node, TensorValues values)
    {
        var beta = node.AttributesAs<SoftmaxAttributes>().Beta;
        var (input, output) = (node.Input(0), node.Output);
        int depth = input.Shape[^1];
        int rows = checked((int)(input.ElementCount / depth));

        if (input.Type == ElementType.Float32 && output.Type == ElementType.Float32)
        {
            var x = values.Floats(input);
            var y = new float[x.Length];
            for (int r = 0; r < rows; r++)
            {
                float max = float.MinValue;
                for (int c = 0; c < depth; c++) max = Math.Max(max, x[r * depth + c]);
                float sum = 0f;
                for (int c = 0; c < depth; c++)
                {
                    float e = MathF.Exp((x[r * depth + c] - max) * beta);
                    y[r * depth + c] = e;
                    sum += e;
                }

                for (int c = 0; c < depth; c++) y[r * depth + c] /= sum;
            }

            values.SetFloats(output, y);
            return;
        }

        if (input.Type == ElementType.Int8 && output.Type is ElementType.Int8 or ElementType.Int16)
        {
            values.SetInts(output, Int8Softmax(values.Ints(input), rows, depth, SoftmaxQuantization.Derive(input, beta), output.Type));
            return;
        }

        throw Kernels.Unsupported(node);
    }

    /// <summary>
    /// The fixed-point softmax: exp(beta·s·(x - max)) for each element in Q0, summed in Q12, divided through a
    /// fixed-point reciprocal and written with the output's zero point at the type's minimum (scale 1/256 for int8,
    /// 1/65536 for int16).
    /// </summary>
    private static int[] Int8Softmax(int[] x, int rows, int depth, SoftmaxQuantization q, ElementType outputType)
    {
        var range = QuantizedRange.Of(outputType);
        int outputBits = outputType.SizeInBytes() * 8;
        var y = new int[x.Length];
        for (int r = 0; r < rows; r++)
        {
            int max = int.MinValue;
            for (int c = 0; c < depth; c++) max = Math.Max(max, x[r * depth + c]);

            int ExpOfDifference(int diff)
            {
                int scaledDiff = FixedPoint.MultiplyByQuantizedMultiplierGreaterThanOne(diff, q.InputMultiplier, q.InputLeftShift);
                return FixedPoint.ExpOnNegativeValues(scaledDiff, SoftmaxQuantization.ScaledDiffIntegerBits);
            }

            int sumOfExps = 0;   // Q12.19
            for (int c = 0; c < depth; c++)
            {
                int diff = x[r * depth + c] - max;
                if (diff >= q.DiffMin)
                    sumOfExps = unchecked(sumOfExps + FixedPoint.RoundingDivideByPOT(ExpOfDifference(diff), SoftmaxQuantization.AccumulationIntegerBits));
            }

            int reciprocal = FixedPoint.GetReciprocal(sumOfExps, SoftmaxQuantization.AccumulationIntegerBits, out int bitsOverUnit);
            for (int c = 0; c < depth; c++)
            {
                int diff = x[r * depth + c] - max;
                if (diff >= q.DiffMin)
                {
                    int product = FixedPoint.SaturatingRoundingDoublingHighMul(reciprocal, ExpOfDifference(diff));
                    int unsaturated = FixedPoint.RoundingDivideByPOT(product, bitsOverUnit + 31 - outputBits);
                    y[r * depth + c] = range.Clamp(unsaturated + range.Min);
                }
                else
                {
                    y[r * depth + c] = range.Min;
                }
            }
        }

        return y;
    }
}
