using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM's operands and what TensorFlow Lite Micro accepts of them: the standard LSTM with all
/// four gates, no peephole, projection or layer normalisation, and the types float32 (float weights, float cell),
/// int8 (int8 weights, int32 biases, int16 cell) and 16x8 (int16 activations, int8 weights, int64 biases, int16 cell).
/// </summary>
public static class Lstm
{
    public const int OperandCount = 24;

    public const int Input = 0;

    /// <summary>Input-to-gate weights [state, input] of the input, forget, cell and output gates (operands 1-4).</summary>
    public const int InputWeights = 1;

    /// <summary>Recurrent weights [state, state] of the four gates (operands 5-8).</summary>
    public const int RecurrentWeights = 5;

    /// <summary>Gate biases [state] (operands 12-15).</summary>
    public const int Biases = 12;

    /// <summary>The variable tensors: the hidden (output) state and the cell state, [batch, state].</summary>
    public const int OutputState = 18, CellState = 19;

    /// <summary>Gate numbers, in TFLite's operand order.</summary>
    public const int InputGate = 0, ForgetGate = 1, CellGate = 2, OutputGate = 3;

    /// <summary>Operands TFLite Micro's kernel refuses: peephole weights (9-11), projection (16-17), layer-norm coefficients (20-23).</summary>
    private static readonly (int First, int Last, string What)[] Refused =
    {
        (9, 11, "peephole weights"), (16, 17, "a projection"), (20, 23, "layer normalisation coefficients"),
    };

    /// <summary>Batch, time steps, input size and state size of an LSTM node (shapes already checked).</summary>
    public readonly record struct Sizes(int Batch, int Time, int InputSize, int StateSize);

    public static Sizes SizesOf(Node node)
    {
        var a = node.AttributesAs<LstmAttributes>();
        var input = node.Input(Input).Shape;
        int stateSize = node.Input(RecurrentWeights + 1).Shape[1];
        return a.TimeMajor ? new Sizes(input[1], input[0], input[2], stateSize) : new Sizes(input[0], input[1], input[2], stateSize);
    }

    /// <summary>The output shape after TFLite Micro's size checks (ValidateTensorSize).</summary>
    public static int[] OutputShape(Node node, Func<string, string, CompilerException> fail)
    {
        CheckPresence(node, fail);
        var input = node.Input(Input);
        if (input.Rank != 3) throw fail(ErrorCodes.InvalidShape, $"input {input} must have rank 3 ([batch, time, features] or time major)");
        var hidden = node.Input(OutputState);
        if (hidden.Rank < 2) throw fail(ErrorCodes.InvalidShape, $"output state {hidden} must have rank 2 ([batch, state])");
        int state = hidden.Shape[1], features = input.Shape[2];
        var a = node.AttributesAs<LstmAttributes>();
        int batch = a.TimeMajor ? input.Shape[1] : input.Shape[0];
        for (int gate = 0; gate < 4; gate++)
        {
            ExpectShape(node.Input(InputWeights + gate), new[] { state, features }, "input weights", fail);
            ExpectShape(node.Input(RecurrentWeights + gate), new[] { state, state }, "recurrent weights", fail);
            ExpectShape(node.Input(Biases + gate), new[] { state }, "bias", fail);
        }

        foreach (int i in new[] { OutputState, CellState })
            if (node.Input(i).ElementCount != (long)batch * state)
                throw fail(ErrorCodes.InvalidShape, $"state {node.Input(i)} has {node.Input(i).ElementCount} elements; batch {batch} x state {state} needs {(long)batch * state}");
        return new[] { input.Shape[0], input.Shape[1], state };
    }

    private static void ExpectShape(Tensor tensor, int[] shape, string role, Func<string, string, CompilerException> fail)
    {
        if (!tensor.Shape.AsSpan().SequenceEqual(shape))
            throw fail(ErrorCodes.InvalidShape, $"{role} {tensor} must have shape [{string.Join(",", shape)}]");
    }

    private static void CheckPresence(Node node, Func<string, string, CompilerException> fail)
    {
        if (node.Inputs.Count != OperandCount) throw fail(ErrorCodes.InvalidOperator, $"has {node.Inputs.Count} operands, expected {OperandCount}");
        foreach (var (first, last, what) in Refused)
            for (int i = first; i <= last; i++)
                if (node.Inputs[i] is not null)
                    throw fail(ErrorCodes.UnsupportedFeature, $"has {what} (operand {i}); TensorFlow Lite Micro's LSTM supports neither peephole, projection nor layer normalisation, and neither does this compiler");
        for (int i = 0; i < OperandCount; i++)
        {
            bool required = i is Input or OutputState or CellState || (i >= InputWeights && i < InputWeights + 8) || (i >= Biases && i < Biases + 4);
            if (required && node.Inputs[i] is null)
                throw fail(ErrorCodes.InvalidOperator, i == InputWeights || i == RecurrentWeights || i == Biases
                    ? $"has no input gate (operand {i} is absent); TensorFlow Lite Micro's LSTM needs all four gates (CIFG is not supported)"
                    : $"operand {i} is missing");
        }
    }

    /// <summary>Element types, constness and quantization, as TFLite Micro's Prepare and Eval accept them.</summary>
    public static void Check(Node node, Func<string, string, CompilerException> fail)
    {
        CheckPresence(node, fail);
        var a = node.AttributesAs<LstmAttributes>();
        if (a.Activation != FusedActivation.Tanh)
            throw fail(ErrorCodes.UnsupportedFeature, $"cell activation {a.Activation.ToString().ToUpperInvariant()} is not supported; TensorFlow Lite Micro's LSTM computes TANH only");
        if (!(a.CellClip >= 0) || float.IsInfinity(a.CellClip))
            throw fail(ErrorCodes.InvalidOperator, $"cell clip {a.CellClip} must be a finite value >= 0");

        var input = node.Input(Input);
        var output = node.Output;
        var (hidden, cell) = (node.Input(OutputState), node.Input(CellState));
        var (weightType, biasType, cellType) = input.Type switch
        {
            ElementType.Float32 => (ElementType.Float32, ElementType.Float32, ElementType.Float32),
            ElementType.Int8 => (ElementType.Int8, ElementType.Int32, ElementType.Int16),
            ElementType.Int16 => (ElementType.Int8, ElementType.Int64, ElementType.Int16),
            _ => throw fail(ErrorCodes.UnsupportedElementType, $"input {input} has element type {input.Type.DisplayName()}; {Describe}"),
        };
        if (output.Type != input.Type || hidden.Type != input.Type)
            throw fail(ErrorCodes.UnsupportedElementType, $"output {output} and output state {hidden} must have the input's type {input.Type.DisplayName()}");
        if (cell.Type != cellType)
            throw fail(ErrorCodes.UnsupportedElementType, $"cell state {cell} is {cell.Type.DisplayName()}; with {input.Type.DisplayName()} activations it must be {cellType.DisplayName()} ({Describe})");
        for (int i = 0; i < 8; i++)
        {
            var w = node.Input(InputWeights + i);
            if (w.Type != weightType) throw fail(ErrorCodes.UnsupportedElementType, $"weights {w} are {w.Type.DisplayName()}; {Describe}");
            if (!w.IsConstant) throw fail(ErrorCodes.InvalidOperator, $"weights {w} must be constant");
        }

        for (int i = 0; i < 4; i++)
        {
            var b = node.Input(Biases + i);
            if (b.Type != biasType) throw fail(ErrorCodes.UnsupportedElementType, $"bias {b} is {b.Type.DisplayName()}; {Describe}");
            if (!b.IsConstant) throw fail(ErrorCodes.InvalidOperator, $"bias {b} must be constant");
        }

        if (input.Type == ElementType.Float32) return;

        foreach (var t in new[] { input, output, hidden, cell }.Concat(Enumerable.Range(0, 8).Select(i => node.Input(InputWeights + i))))
        {
            if (t.Quantization is not { } q)
                throw fail(ErrorCodes.InvalidQuantization, $"{t} is {t.Type.DisplayName()} but has no quantization parameters");
            if (q.IsPerChannel)
                throw fail(ErrorCodes.InvalidQuantization, $"{t} is quantized per channel; TensorFlow Lite Micro's LSTM uses one scale per tensor");
            if (!(q.Scale > 0)) throw fail(ErrorCodes.InvalidQuantization, $"{t} has scale {q.Scale}; it must be positive");
        }

        for (int i = 0; i < 8; i++)
            if (node.Input(InputWeights + i).Quantization!.ZeroPoint != 0)
                throw fail(ErrorCodes.InvalidQuantization, $"weights {node.Input(InputWeights + i)} must have zero point 0");
        if (input.Type == ElementType.Int16)
            foreach (var t in new[] { input, output, hidden })
                if (t.Quantization!.ZeroPoint != 0)
                    throw fail(ErrorCodes.InvalidQuantization, $"{t} is int16 with zero point {t.Quantization.ZeroPoint}; int16 tensors must be symmetric (zero point 0)");
    }

    public const string Describe = "UNIDIRECTIONAL_SEQUENCE_LSTM supports float32 (float32 weights, biases and cell state), int8 (int8 weights, int32 biases, int16 cell state) and int16 (int8 weights, int64 biases, int16 cell state)";
}
