using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM as TensorFlow Lite Micro computes it, step by step and gate by gate: each gate is the
/// input product (with the bias) plus the recurrent product of the previous hidden state, then sigmoid (tanh for the
/// cell gate); cell = forget·cell + input·cell gate (clipped if asked); hidden = tanh(cell)·output gate, which is also
/// the step's output row. The state tensors (operands 18 and 19) hold the state before and are updated in place.
/// </summary>
internal static class LstmReference
{
    public static void UnidirectionalSequenceLstm(Node node, TensorValues values)
    {
        var sizes = Lstm.SizesOf(node);
        bool timeMajor = node.AttributesAs<LstmAttributes>().TimeMajor;
        if (node.Input(Lstm.Input).Type == ElementType.Float32) Float(node, values, sizes, timeMajor);
        else Integer(node, values, sizes, timeMajor);
    }

    /// <summary>The steps in TFLite Micro's order: time major runs every batch at each step; batch major runs each
    /// batch's sequence in turn. Each batch row's arithmetic depends only on its own state, so the order only
    /// matters for reading it.</summary>
    private static IEnumerable<(int Batch, int Time, int InputOffset, int OutputOffset)> Steps(Lstm.Sizes s, bool timeMajor)
    {
        for (int outer = 0; outer < (timeMajor ? s.Time : s.Batch); outer++)
            for (int inner = 0; inner < (timeMajor ? s.Batch : s.Time); inner++)
            {
                var (b, t) = timeMajor ? (inner, outer) : (outer, inner);
                int row = timeMajor ? t * s.Batch + b : b * s.Time + t;
                yield return (b, t, row * s.InputSize, row * s.StateSize);
            }
    }

    private static void Integer(Node node, TensorValues values, Lstm.Sizes s, bool timeMajor)
    {
        var q = LstmQuantization.Derive(node);
        var (hiddenTensor, cellTensor) = (node.Input(Lstm.OutputState), node.Input(Lstm.CellState));
        bool wide = node.Input(Lstm.Input).Type == ElementType.Int16;
        var x = values.Ints(node.Input(Lstm.Input));
        var hidden = values.Ints(hiddenTensor);
        var cell = values.Ints(cellTensor);
        var output = new int[node.Output.ElementCount];
        var inputWeights = Enumerable.Range(0, 4).Select(g => values.Ints(node.Input(Lstm.InputWeights + g))).ToArray();
        var recurrentWeights = Enumerable.Range(0, 4).Select(g => values.Ints(node.Input(Lstm.RecurrentWeights + g))).ToArray();
        var biases = Enumerable.Range(0, 4).Select(g => values.Longs(node.Input(Lstm.Biases + g))).ToArray();
        var gates = new int[4][];
        for (int g = 0; g < 4; g++) gates[g] = new int[s.StateSize];

        foreach (var (b, _, inputOffset, outputOffset) in Steps(s, timeMajor))
        {
            int state = b * s.StateSize;
            for (int g = 0; g < 4; g++)
            {
                for (int j = 0; j < s.StateSize; j++)
                {
                    int fromInput = Product(x, inputOffset, q.InputOffset, inputWeights[g], j, s.InputSize, biases[g][j], q.Gates[g].Input, wide);
                    int fromHidden = Product(hidden, state, q.HiddenOffset, recurrentWeights[g], j, s.StateSize, 0, q.Gates[g].Recurrent, wide);
                    int sum = Math.Clamp(fromInput + fromHidden, short.MinValue, short.MaxValue);
                    gates[g][j] = g == Lstm.CellGate
                        ? ActivationReference.TanhInt16(sum, LstmQuantization.GateActivation)
                        : ActivationReference.LogisticInt16(sum, LstmQuantization.GateActivation);
                }
            }

            for (int j = 0; j < s.StateSize; j++)
            {
                int kept = Multiply(gates[Lstm.ForgetGate][j], cell[state + j], q.ForgetTimesCell, 0, short.MinValue, short.MaxValue);
                int added = Multiply(gates[Lstm.InputGate][j], gates[Lstm.CellGate][j], q.InputTimesCellGate, 0, short.MinValue, short.MaxValue);
                int c = Math.Clamp(kept + added, short.MinValue, short.MaxValue);
                if (q.CellClip is int clip) c = Math.Max(Math.Min(clip, c), -clip);
                cell[state + j] = c;
            }

            for (int j = 0; j < s.StateSize; j++)
            {
                int tanh = ActivationReference.TanhInt16(cell[state + j], q.CellTanh);
                int h = Multiply(tanh, gates[Lstm.OutputGate][j], q.CellTanhTimesOutput, q.HiddenZeroPoint, q.HiddenMin, q.HiddenMax);
                hidden[state + j] = h;
                output[outputOffset + j] = h;
            }
        }

        values.SetInts(node.Output, output);
        values.SetInts(hiddenTensor, hidden);
        values.SetInts(cellTensor, cell);
    }

    /// <summary>One unit's fully connected product requantized to Q3.12 int16: an int32 accumulator for int8
    /// activations, int64 (and TFLite's 64-bit requantization) for int16.</summary>
    private static int Product(int[] x, int offset, int inputOffset, int[] weights, int unit, int depth, long bias, (int Multiplier, int Shift) m, bool wide)
    {
        int scaled;
        if (wide)
        {
            long acc = 0;
            for (int d = 0; d < depth; d++) acc += (long)weights[unit * depth + d] * (x[offset + d] + inputOffset);
            scaled = FixedPoint.MultiplyByQuantizedMultiplier(acc + bias, m.Multiplier, m.Shift);
        }
        else
        {
            int acc = 0;
            for (int d = 0; d < depth; d++) acc = unchecked(acc + weights[unit * depth + d] * (x[offset + d] + inputOffset));
            scaled = FixedPoint.MultiplyByQuantizedMultiplier(unchecked(acc + (int)bias), m.Multiplier, m.Shift);
        }

        return Math.Clamp(scaled, short.MinValue, short.MaxValue);
    }

    /// <summary>TFLite's element-wise quantized product of two symmetric int16 values.</summary>
    private static int Multiply(int a, int b, (int Multiplier, int Shift) m, int outputOffset, int min, int max) =>
        Math.Clamp(outputOffset + FixedPoint.MultiplyByQuantizedMultiplier(a * b, m.Multiplier, m.Shift), min, max);

    private static void Float(Node node, TensorValues values, Lstm.Sizes s, bool timeMajor)
    {
        var a = node.AttributesAs<LstmAttributes>();
        var (hiddenTensor, cellTensor) = (node.Input(Lstm.OutputState), node.Input(Lstm.CellState));
        var x = values.Floats(node.Input(Lstm.Input));
        var hidden = values.Floats(hiddenTensor);
        var cell = values.Floats(cellTensor);
        var output = new float[node.Output.ElementCount];
        var inputWeights = Enumerable.Range(0, 4).Select(g => values.Floats(node.Input(Lstm.InputWeights + g))).ToArray();
        var recurrentWeights = Enumerable.Range(0, 4).Select(g => values.Floats(node.Input(Lstm.RecurrentWeights + g))).ToArray();
        var biases = Enumerable.Range(0, 4).Select(g => values.Floats(node.Input(Lstm.Biases + g))).ToArray();
        var gates = new float[4][];
        for (int g = 0; g < 4; g++) gates[g] = new float[s.StateSize];

        foreach (var (b, _, inputOffset, outputOffset) in Steps(s, timeMajor))
        {
            int state = b * s.StateSize;
            for (int g = 0; g < 4; g++)
            {
                for (int j = 0; j < s.StateSize; j++)
                {
                    float sum = Product(x, inputOffset, inputWeights[g], j, s.InputSize, biases[g][j])
                                + Product(hidden, state, recurrentWeights[g], j, s.StateSize, 0.0f);
                    gates[g][j] = g == Lstm.CellGate ? FloatMath.Tanh(sum) : ActivationReference.LogisticFloat(sum);
                }
            }

            for (int j = 0; j < s.StateSize; j++)
            {
                float kept = gates[Lstm.ForgetGate][j] * cell[state + j];
                float added = gates[Lstm.InputGate][j] * gates[Lstm.CellGate][j];
                float c = kept + added;
                if (a.CellClip > 0) c = MathF.Max(MathF.Min(a.CellClip, c), -a.CellClip);
                cell[state + j] = c;
                float h = FloatMath.Tanh(c) * gates[Lstm.OutputGate][j];
                hidden[state + j] = h;
                output[outputOffset + j] = h;
            }
        }

        values.SetFloats(node.Output, output);
        values.SetFloats(hiddenTensor, hidden);
        values.SetFloats(cellTensor, cell);
    }

    /// <summary>TFLite's float fully connected for one unit: the sum in input order, then the bias added.</summary>
    private static float Product(float[] x, int offset, float[] weights, int unit, int depth, float bias)
    {
        float total = 0.0f;
        for (int d = 0; d < depth; d++) total += x[offset + d] * weights[unit * depth + d];
        return total + bias;
    }
}
