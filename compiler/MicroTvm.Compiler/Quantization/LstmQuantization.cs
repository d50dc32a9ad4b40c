using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// The constants of TensorFlow Lite Micro's integer LSTM (int8 or int16 activations, int16 gates and cell), computed
/// as its Prepare computes them. Each gate is two fully connected products (input and recurrent) requantized to int16
/// on the Q3.12 grid (scale 2^-12, zero point 0), added with int16 saturation, then a 16-bit sigmoid or tanh whose
/// result is Q0.15. Three element-wise products follow: forget·cell and input·cell gate into the cell state's scale,
/// tanh(cell)·output gate into the hidden state's scale and zero point.
/// </summary>
/// <param name="Gates">Input, forget, cell and output gate, in TFLite's operand order.</param>
/// <param name="InputOffset">Minus the input's zero point.</param>
/// <param name="HiddenOffset">Minus the hidden state's zero point (the recurrent products' input offset).</param>
/// <param name="HiddenZeroPoint">The hidden state's zero point (the last product's output offset).</param>
/// <param name="HiddenMin">The hidden state type's range (int8 or int16).</param>
/// <param name="CellClip">The cell state's clip in its units; null when the model sets none.</param>
/// <param name="CellTanh">The tanh of the cell state: its input rescaling for the sigmoid table.</param>
public sealed record LstmQuantization(
    LstmGateQuantization[] Gates,
    int InputOffset,
    int HiddenOffset,
    int HiddenZeroPoint,
    int HiddenMin,
    int HiddenMax,
    (int Multiplier, int Shift) ForgetTimesCell,
    (int Multiplier, int Shift) InputTimesCellGate,
    (int Multiplier, int Shift) CellTanhTimesOutput,
    int? CellClip,
    SigmoidInt16Quantization CellTanh)
{
    /// <summary>Gate pre-activations are int16 with scale 2^-12 (Q3.12); gate outputs are Q0.15.</summary>
    public const float GateInputScale = 0.000244140625f, GateOutputScale = 0.000030517578125f;

    /// <summary>The sigmoid of every gate and the tanh of the cell gate read Q3.12: x·3, no shift.</summary>
    public static readonly SigmoidInt16Quantization GateActivation = new(3, 0);

    public static LstmQuantization Derive(Node node)
    {
        var input = node.Input(Lstm.Input);
        var hidden = node.Input(Lstm.OutputState);
        var cell = node.Input(Lstm.CellState);
        bool wide = input.Type == ElementType.Int16;
        int maxShift = wide ? MultiplierRange.MaxShift64 : MultiplierRange.MaxShift;
        float inputScale = input.Quantization!.Scale, hiddenScale = hidden.Quantization!.Scale, cellScale = cell.Quantization!.Scale;

        var gates = new LstmGateQuantization[4];
        for (int g = 0; g < 4; g++)
        {
            var inputWeights = node.Input(Lstm.InputWeights + g);
            var recurrentWeights = node.Input(Lstm.RecurrentWeights + g);
            // As TFLite's GetQuantizedConvolutionMultipler with a bias: input and filter scales multiplied in double.
            gates[g] = new LstmGateQuantization(
                MultiplierRange.Multiplier((double)inputScale * inputWeights.Quantization!.Scale / GateInputScale, maxShift,
                    "input scale * input weights scale / 2^-12", input, inputWeights),
                MultiplierRange.Multiplier((double)hiddenScale * recurrentWeights.Quantization!.Scale / GateInputScale, maxShift,
                    "output state scale * recurrent weights scale / 2^-12", hidden, recurrentWeights));
        }

        var a = node.AttributesAs<LstmAttributes>();
        SigmoidInt16Quantization.CheckedLog2(cellScale, out int cellScalePower);
        // TFLite Micro's cell tanh: the Q3.12 table input is cell·3·2^(power + 12), as a shift left or right.
        int tanhShift = 15 + cellScalePower - 3;
        if (tanhShift > 14) // int16 · 3·2^shift must fit in 32 bits
            throw MultiplierRange.OutOfRange(cellScale, "cell state scale", "too large for the 16-bit tanh (at most 2^2)", cell);
        var cellTanh = tanhShift >= 0 ? new SigmoidInt16Quantization(3 << tanhShift, 0) : new SigmoidInt16Quantization(3, -tanhShift);
        int? clip = a.CellClip > 0 ? (short)Math.Min(Math.Max((double)a.CellClip / cellScale, -32768.0), 32767.0) : null;

        bool int8Hidden = hidden.Type == ElementType.Int8;
        return new LstmQuantization(
            gates,
            -input.Quantization.ZeroPoint,
            -hidden.Quantization.ZeroPoint,
            hidden.Quantization.ZeroPoint,
            int8Hidden ? sbyte.MinValue : short.MinValue,
            int8Hidden ? sbyte.MaxValue : short.MaxValue,
            Product(GateOutputScale, cellScale, cellScale, "2^-15 * cell scale / cell scale", cell),
            Product(GateOutputScale, GateOutputScale, cellScale, "2^-15 * 2^-15 / cell scale", cell),
            Product(GateOutputScale, GateOutputScale, hiddenScale, "2^-15 * 2^-15 / output state scale", hidden),
            clip,
            cellTanh);
    }

    private static (int, int) Product(float scale1, float scale2, float outputScale, string ratio, Tensor tensor) =>
        MultiplierRange.Multiplier((double)scale1 * scale2 / outputScale, MultiplierRange.MaxShift, ratio, tensor);
}

/// <summary>One gate's two requantizations to Q3.12: of the input product (with the bias) and of the recurrent product.</summary>
public sealed record LstmGateQuantization((int Multiplier, int Shift) Input, (int Multiplier, int Shift) Recurrent);
