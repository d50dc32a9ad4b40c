using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>SOFTMAX over the last dimension.</summary>
internal static class SoftmaxReference
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
                    float e = FloatMath.Exp((x[r * depth + c] - max) * beta);
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

        if (input.Type == ElementType.Int16 && output.Type == ElementType.Int16)
        {
            values.SetInts(output, Int16Softmax(values.Ints(input), rows, depth, SoftmaxInt16Quantization.Derive(input, beta)));
            return;
        }

        throw ReferenceErrors.Unsupported(node);
    }

    /// <summary>
    /// The table-based int16 softmax: exp of the scaled differences from a table (Q0.15), their sum in Q16.15,
    /// a normalised reciprocal from a second table, and a rounding shift back to Q0.15.
    /// </summary>
    private static int[] Int16Softmax(int[] x, int rows, int depth, SoftmaxInt16Quantization q)
    {
        var y = new int[x.Length];
        var exps = new int[depth];
        for (int r = 0; r < rows; r++)
        {
            int max = short.MinValue;
            for (int c = 0; c < depth; c++) max = Math.Max(max, x[r * depth + c]);

            int sumOfExps = 0;
            for (int c = 0; c < depth; c++)
            {
                int scaled = FixedPoint.MultiplyByQuantizedMultiplier(x[r * depth + c] - max, q.InputMultiplier, q.InputShift);
                int centred = Math.Clamp(scaled + 32767, short.MinValue, short.MaxValue);   // [-65535, 0] → [-32768, 32767]
                exps[c] = LookupTable.Lookup(centred, q.ExpTable);
                sumOfExps += exps[c];
            }

            int headroomPlusOne = FixedPoint.CountLeadingZeros((uint)sumOfExps);
            int shiftedSum = (int)((((long)sumOfExps << (headroomPlusOne - 1)) + (1 << 13)) >> 14);
            // The table computes 1/(1 + t) for t in [0, 1] laid out over [-32768, 32767]: t = normalised sum - 1.
            int centredSum = Math.Clamp(shiftedSum - ((1 << 15) + (1 << 16)), short.MinValue, short.MaxValue);
            int reciprocal = LookupTable.Lookup(centredSum, q.OneOverOnePlusXTable);

            int rightShift = 31 - headroomPlusOne;
            long round = 1L << (rightShift - 1);
            for (int c = 0; c < depth; c++)
            {
                int result = (int)(((long)exps[c] * reciprocal + round) >> rightShift);
                y[r * depth + c] = Math.Clamp(result, 0, short.MaxValue);
            }
        }

        return y;
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
