using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>Unary activations: RELU, RELU6, LEAKY_RELU, HARD_SWISH, LOGISTIC, TANH.</summary>
internal static class ActivationReference
{
    private static bool SameType(Node node, params ElementType[] allowed) =>
        node.Input(0).Type == node.Output.Type && allowed.Contains(node.Output.Type);

    private static void MapFloats(Node node, TensorValues values, Func<float, float> f) =>
        values.SetFloats(node.Output, Array.ConvertAll(values.Floats(node.Input(0)), x => f(x)));

    private static void MapInts(Node node, TensorValues values, Func<int, int> f) =>
        values.SetInts(node.Output, Array.ConvertAll(values.Ints(node.Input(0)), x => f(x)));

    public static void Relu(Node node, TensorValues values)
    {
        if (SameType(node, ElementType.Float32)) { MapFloats(node, values, x => x < 0f ? 0f : x); return; }
        if (!SameType(node, ElementType.Int8, ElementType.Int16)) throw ReferenceErrors.Unsupported(node);
        var q = ReluQuantization.Derive(node.Input(0), node.Output);
        MapInts(node, values, x => q.Range.Clamp(q.OutputZeroPoint + FixedPoint.MultiplyByQuantizedMultiplier(x - q.InputZeroPoint, q.Multiplier, q.Shift)));
    }

    public static void Relu6(Node node, TensorValues values)
    {
        if (SameType(node, ElementType.Float32)) { MapFloats(node, values, x => x > 6f ? 6f : x < 0f ? 0f : x); return; }
        if (!SameType(node, ElementType.Int8, ElementType.Int16)) throw ReferenceErrors.Unsupported(node);
        var q = Relu6Quantization.Derive(node.Input(0));
        MapInts(node, values, x => x > q.Six ? q.Six : x < q.Zero ? q.Zero : x);
    }

    public static void LeakyRelu(Node node, TensorValues values)
    {
        float alpha = node.AttributesAs<LeakyReluAttributes>().Alpha;
        if (SameType(node, ElementType.Float32)) { MapFloats(node, values, x => x > 0f ? x : x * alpha); return; }
        if (!SameType(node, ElementType.Int8, ElementType.Int16)) throw ReferenceErrors.Unsupported(node);
        var q = LeakyReluQuantization.Derive(node.Input(0), node.Output, alpha);
        var range = QuantizedRange.Of(node.Output.Type);
        MapInts(node, values, x =>
        {
            int centred = x - q.InputZeroPoint;
            int scaled = centred >= 0
                ? FixedPoint.MultiplyByQuantizedMultiplier(centred, q.IdentityMultiplier, q.IdentityShift)
                : FixedPoint.MultiplyByQuantizedMultiplier(centred, q.AlphaMultiplier, q.AlphaShift);
            return range.Clamp(q.OutputZeroPoint + scaled);
        });
    }

    public static void HardSwish(Node node, TensorValues values)
    {
        if (SameType(node, ElementType.Float32))
        {
            MapFloats(node, values, x => x * Math.Min(6f, Math.Max(0f, x + 3f)) / 6f);
            return;
        }

        if (!SameType(node, ElementType.Int8)) throw ReferenceErrors.Unsupported(node);
        var q = HardSwishQuantization.Derive(node.Input(0), node.Output);
        var range = QuantizedRange.Of(node.Output.Type);
        MapInts(node, values, x => range.Clamp(HardSwishInt8(x, q)));
    }

    /// <summary>
    /// x·relu6(x+3)/6 in 16-bit fixed point: the input on the high-resolution scale, a "relu-ish" factor in [0, 1]
    /// (the input rescaled so that ±3 maps to ±1, saturated, then mapped to [0, 1]), and their product.
    /// </summary>
    private static int HardSwishInt8(int x, HardSwishQuantization q)
    {
        short input = (short)(x - q.InputZeroPoint);
        short hires = (short)(input * (1 << 7));
        short preshiftOutput = RoundingDoublingHighMul16(hires, q.OutputMultiplier);

        short reluish = hires;
        if (q.ReluishMultiplierExponent > 0)
            reluish = SaturatingLeftShift16(reluish, q.ReluishMultiplierExponent - 1);   // all but the last bit
        reluish = RoundingDoublingHighMul16(reluish, q.ReluishMultiplier);
        if (q.ReluishMultiplierExponent > 0)
            reluish = SaturatingLeftShift16(reluish, 1);                                  // saturation happens here
        if (q.ReluishMultiplierExponent < 0)
            reluish = (short)FixedPoint.RoundingDivideByPOT(reluish, -q.ReluishMultiplierExponent);
        reluish = (short)((reluish + (1 << 15)) >> 1);                                    // [-1, 1] → [0, 1]

        short preshift = DoublingHighMul16(reluish, preshiftOutput);
        short output = (short)FixedPoint.RoundingDivideByPOT(preshift, -q.OutputMultiplierExponent);
        return unchecked((short)(output + q.OutputZeroPoint));
    }

    private static short RoundingDoublingHighMul16(short a, short b)
    {
        if (a == short.MinValue && b == short.MinValue) return short.MaxValue;
        int ab = a * b;
        int nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
        return (short)((ab + nudge) / (1 << 15));
    }

    /// <summary>The doubling high multiply without rounding (truncates toward zero).</summary>
    private static short DoublingHighMul16(short a, short b)
    {
        if (a == short.MinValue && b == short.MinValue) return short.MaxValue;
        return (short)(a * b / (1 << 15));
    }

    private static short SaturatingLeftShift16(short value, int amount) =>
        (short)Math.Clamp((long)value * (1L << amount), short.MinValue, short.MaxValue);

    public static void Logistic(Node node, TensorValues values)
    {
        if (SameType(node, ElementType.Float32))
        {
            MapFloats(node, values, LogisticFloat);
            return;
        }

        if (SameType(node, ElementType.Int8))
        {
            // Output in 1/256 units with zero point -128.
            MapSigmoidFamilyInt8(node, values, FixedPoint.Logistic, outputFractionBits: 8, outputZeroPoint: -128);
            return;
        }

        if (SameType(node, ElementType.Int16))
        {
            var q = SigmoidInt16Quantization.Derive(node.Input(0), isTanh: false);
            MapInts(node, values, x => LogisticInt16(x, q));
            return;
        }

        throw ReferenceErrors.Unsupported(node);
    }

    /// <summary>TFLite's float sigmoid: 1 above the cutoff, exp(x) far below zero.</summary>
    internal static float LogisticFloat(float x) => x > 16.619047164916992188f ? 1.0f : x < -9.0f ? FloatMath.Exp(x) : 1.0f / (1.0f + FloatMath.Exp(-x));

    public static void Tanh(Node node, TensorValues values)
    {
        if (SameType(node, ElementType.Float32)) { MapFloats(node, values, FloatMath.Tanh); return; }

        if (SameType(node, ElementType.Int8))
        {
            // Output in 1/128 units with zero point 0.
            MapSigmoidFamilyInt8(node, values, FixedPoint.Tanh, outputFractionBits: 7, outputZeroPoint: 0);
            return;
        }

        if (SameType(node, ElementType.Int16))
        {
            var q = SigmoidInt16Quantization.Derive(node.Input(0), isTanh: true);
            MapInts(node, values, x => TanhInt16(x, q));
            return;
        }

        throw ReferenceErrors.Unsupported(node);
    }

    /// <summary>
    /// int8 LOGISTIC and TANH: saturate outside the input range radius, rescale to Q4.27, apply the fixed-point
    /// function (Q0.31 result), then round to the output's units and add its zero point.
    /// </summary>
    private static void MapSigmoidFamilyInt8(
        Node node, TensorValues values, Func<int, int, int> fixedPointFunction, int outputFractionBits, int outputZeroPoint)
    {
        var q = SigmoidInt8Quantization.Derive(node.Input(0));
        MapInts(node, values, x =>
        {
            int input = x - q.InputZeroPoint;
            if (input <= -q.InputRangeRadius) return sbyte.MinValue;
            if (input >= q.InputRangeRadius) return sbyte.MaxValue;
            int inputQ4 = FixedPoint.MultiplyByQuantizedMultiplier(input, q.InputMultiplier, q.InputLeftShift);
            int outputQ0 = fixedPointFunction(inputQ4, SigmoidInt8Quantization.InputIntegerBits);
            int output = FixedPoint.RoundingDivideByPOT(outputQ0, 31 - outputFractionBits) + outputZeroPoint;
            return Math.Clamp(output, sbyte.MinValue, sbyte.MaxValue);
        });
    }

    /// <summary>The input on the table's scale (1.0 = 3·4096 / 2^shift units), rounding the right shift.</summary>
    private static int ScaleSigmoidInput(int x, SigmoidInt16Quantization q)
    {
        int round = q.InputLeftShift > 0 ? 1 << (q.InputLeftShift - 1) : 0;
        return (x * q.InputMultiplier + round) >> q.InputLeftShift;
    }

    /// <summary>sigmoid by linear interpolation between table entries 2^9 input units apart; output in Q0.15.</summary>
    internal static int LogisticInt16(int x, SigmoidInt16Quantization q)
    {
        var table = SigmoidInt16Quantization.SigmoidTable;
        int input = ScaleSigmoidInput(x, q);
        uint magnitude = (uint)Math.Abs(input);
        uint index = magnitude >> 9;
        uint result;
        if (index >= 255)
        {
            result = 0x7FFFu << 10;
        }
        else
        {
            uint a = table[(int)index], b = table[(int)index + 1];
            result = (a << 9) + (magnitude & 0x1FF) * (b - a);
        }

        // sigmoid(-x) = 1 - sigmoid(x); round to Q0.15.
        result = input >= 0 ? result + (1u << 9) : (1u << (16 + 9)) - result + (1u << 9) - 1;
        return (short)(result >> 10);
    }

    /// <summary>tanh(x) = 2·sigmoid(2x) - 1 from the same table, entries 2^8 input units apart; output in Q0.15.</summary>
    internal static int TanhInt16(int x, SigmoidInt16Quantization q)
    {
        var table = SigmoidInt16Quantization.SigmoidTable;
        int input = ScaleSigmoidInput(x, q);
        uint magnitude = (uint)Math.Abs(input);
        uint index = magnitude >> 8;
        int result;
        if (index >= 255)
        {
            result = 0xFFFF << 8;
        }
        else
        {
            uint a = table[(int)index], b = table[(int)index + 1];
            result = (int)((a << 8) + (magnitude & 0xFF) * (b - a));
        }

        result = input >= 0
            ? result - (1 << (14 + 9)) + (1 << (9 - 2))
            : -result + (1 << (14 + 9)) + (1 << (9 - 2)) - 1;
        return (short)(result >> (9 - 1));
    }
}
