using System.Buffers.Binary;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.FlatBuffers;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Tflite;

/// <summary>
/// Imports one operator: finds its <see cref="OpKind"/> and lets the registration read the operator's options and
/// operands with the helpers below (operand counts, data operands, constant operands, options, fused activation,
/// padding). Every error names the file and the operator.
/// </summary>
internal sealed class OperandReader
{
    private readonly TfliteImporter.Importer _importer;
    private readonly int _index;
    private readonly TfliteOperator _op;

    public OperandReader(TfliteImporter.Importer importer, int index, TfliteOperator op)
    {
        _importer = importer;
        _index = index;
        _op = op;
    }

    public OpKind? Kind { get; private set; }

    public string KindName { get; private set; } = "";

    public CompilerException Error(string code, string message) => new(code, $"operator {_index} ({KindName}): {message}")
    {
        File = _importer.Path,
        OperatorIndex = _index,
        OperatorName = KindName,
    };

    public Node Import()
    {
        var code = _importer.OperatorCode(_op.OpcodeIndex);
        if (code is null)
        {
            KindName = "?";
            throw Error(ErrorCodes.MalformedModel, $"refers to operator code {_op.OpcodeIndex}, but the model has {_importer.OperatorCodeCount}");
        }

        KindName = code.Name;
        if (code.IsCustom)
        {
            // The one decision about custom operators: imported when the caller has an implementation for it.
            Custom = _importer.CustomOperators.Find(code.CustomCode ?? "")
                ?? throw Error(ErrorCodes.UnsupportedOperator, $"{code.Name} has no implementation; {_importer.CustomOperators.HowToSupply(code.CustomCode ?? "")}");
        }

        if ((code.IsCustom ? OpKind.Custom : OpKind.ForBuiltinCode(code.BuiltinCode)) is not { } kind)
            throw Error(ErrorCodes.UnsupportedOperator,
                $"{code.Name} is not supported. Supported operators: {string.Join(", ", TfliteImporter.SupportedOperatorNames)}");
        Kind = kind;
        if (!code.IsCustom) KindName = kind.Name;

        if (_op.Outputs.Length < 1 || (kind.InferShapes is null && _op.Outputs.Length != 1))
            throw Error(ErrorCodes.InvalidOperator, $"has {_op.Outputs.Length} outputs, expected {(kind.InferShapes is null ? "1" : "at least 1")}");
        var outputs = _op.Outputs.Select((id, k) => Tensor(id, $"output {k}") ?? throw Error(ErrorCodes.InvalidGraph, $"has no output tensor {k} (-1)")).ToArray();

        var (attributes, inputs) = kind.Import(this);
        var node = new Node(_index, kind, attributes, inputs, outputs);
        OperatorSupport.Check(node, _importer.Path);
        return node;
    }

    /// <summary>For a custom operator: its implementation.</summary>
    public CustomOperator? Custom { get; private set; }

    /// <summary>For a custom operator: its custom_options bytes as stored.</summary>
    public byte[] CustomOptions => _op.CustomOptions;

    /// <summary>Output <paramref name="k"/>'s raw tensor (for the shape signature); null when absent.</summary>
    public TfliteTensor? RawOutput(int k) =>
        _op.Outputs[k] >= 0 && _op.Outputs[k] < _importer.TensorCount ? _importer.RawTensor(_op.Outputs[k]) : null;

    public int OutputCount => _op.Outputs.Length;

    /// <summary>The number of operands as stored (absent ones included).</summary>
    public int InputCount => _op.Inputs.Length;

    /// <summary>The output's shape as the model declares it.</summary>
    public int[] DeclaredOutputShape => (int[])Tensor(_op.Outputs[0], "output")!.Shape.Clone();

    /// <summary>RESHAPE's target: the shape operand when it is a constant vector, else new_shape, else the declared output; one -1 is resolved.</summary>
    public int[] ReshapeTarget()
    {
        int[]? shape = null;
        if (_op.Inputs.Length > 1 && _op.Inputs[1] >= 0)
        {
            var raw = RawTensor(1);
            if (raw.Shape.Length == 1 && _importer.BufferBytes(raw, (c, m) => Error(c, $"shape operand {m}")).Length > 0)
                shape = ConstantInts(1, "shape");
        }

        shape ??= Options(17 /* ReshapeOptions */)?.Vector(0, 4, "new_shape")?.ToInt32Array();
        var output = Tensor(_op.Outputs[0], "output")!;
        if (shape is null) return (int[])output.Shape.Clone();
        shape = (int[])shape.Clone();
        int unknown = Array.IndexOf(shape, -1);
        if (unknown >= 0)
        {
            long known = 1;
            for (int d = 0; d < shape.Length; d++)
                if (d != unknown)
                {
                    if (shape[d] <= 0) throw Error(ErrorCodes.InvalidShape, $"new shape [{string.Join(",", shape)}] is invalid");
                    known = Math.Min(known * shape[d], (long)int.MaxValue + 1);
                }

            long count = Required(0, "input").ElementCount;
            if (count % known != 0)
                throw Error(ErrorCodes.InvalidShape, $"cannot reshape {count} elements to [{string.Join(",", shape)}]");
            shape[unknown] = (int)(count / known);
        }

        return shape;
    }

    public void Inputs(int min, int max)
    {
        if (_op.Inputs.Length < min || _op.Inputs.Length > max)
            throw Error(ErrorCodes.InvalidOperator, $"has {_op.Inputs.Length} inputs, expected {(min == max ? $"{min}" : $"{min} to {max}")}");
    }

    /// <summary>The operands at <paramref name="positions"/> as node inputs (null where absent or -1).</summary>
    public Tensor?[] Data(params int[] positions)
    {
        var result = new Tensor?[positions.Length];
        for (int i = 0; i < positions.Length; i++)
            result[i] = positions[i] == 0 || positions[i] == 1 ? Required(positions[i], $"input {positions[i]}") : Optional(positions[i]);
        return result;
    }

    public Tensor Required(int position, string role) =>
        (position < _op.Inputs.Length ? Tensor(_op.Inputs[position], $"input {position}") : null)
        ?? throw Error(ErrorCodes.InvalidOperator, $"the {role} operand is missing");

    /// <summary>
    /// An optional operand: absent when missing, -1, or (as some converters write it) a tensor with no
    /// elements and no data.
    /// </summary>
    public Tensor? Optional(int position)
    {
        if (position >= _op.Inputs.Length || _op.Inputs[position] == -1) return null;
        var raw = RawTensor(position);
        if (raw.Shape.Contains(0) && _importer.BufferBytes(raw, (c, m) => Error(c, $"input {position} {m}")).Length == 0) return null;
        return Tensor(_op.Inputs[position], $"input {position}");
    }

    private Tensor? Tensor(int id, string role)
    {
        if (id == -1) return null;
        if (id < 0 || id >= _importer.TensorCount)
            throw Error(ErrorCodes.InvalidGraph, $"{role} refers to tensor {id}, but the subgraph has {_importer.TensorCount} tensors (dangling reference)");
        return _importer.ConvertTensor(id, this);
    }

    private TfliteTensor RawTensor(int position)
    {
        int id = _op.Inputs[position];
        if (id < 0 || id >= _importer.TensorCount)
            throw Error(ErrorCodes.InvalidGraph, $"input {position} refers to tensor {id}, but the subgraph has {_importer.TensorCount} tensors (dangling reference)");
        return _importer.RawTensor(id);
    }

    public bool IsConstant(int position) =>
        position < _op.Inputs.Length && _op.Inputs[position] != -1
        && _importer.BufferBytes(RawTensor(position), (c, m) => Error(c, $"input {position} {m}")).Length > 0;

    /// <summary>A constant int32/int64 operand that describes the operation (it does not become a node input).</summary>
    public int[] ConstantInts(int position, string role)
    {
        if (position >= _op.Inputs.Length || _op.Inputs[position] == -1)
            throw Error(ErrorCodes.InvalidOperator, $"the {role} operand is missing");
        var raw = RawTensor(position);
        CompilerException Fail(string code, string message) => Error(code, $"the {role} operand (tensor {raw.Index}) {message}");
        var bytes = _importer.BufferBytes(raw, Fail);
        if (bytes.Length == 0)
            throw Fail(ErrorCodes.InvalidOperator, "must be a constant; computed values are not supported");
        int size = raw.Type switch { 2 => 4, 4 => 8, _ => 0 };
        if (size == 0)
            throw Fail(ErrorCodes.UnsupportedElementType, $"has element type {TfliteSchema.TensorTypeName(raw.Type)}; expected int32 or int64");
        if (bytes.Length % size != 0)
            throw Fail(ErrorCodes.InvalidConstantData, $"has {bytes.Length} bytes, not a whole number of {size}-byte values");
        long expected = 1;
        foreach (int dim in raw.Shape) expected = dim < 0 ? -1 : Math.Min(expected * dim, int.MaxValue);
        if (expected != bytes.Length / size)
            throw Fail(ErrorCodes.InvalidConstantData, $"has {bytes.Length / size} values, but its shape [{string.Join(",", raw.Shape)}] says {expected}");
        var values = new int[bytes.Length / size];
        for (int i = 0; i < values.Length; i++)
        {
            long value = size == 4
                ? BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i))
                : BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8 * i));
            if (value is < int.MinValue or > int.MaxValue)
                throw Fail(ErrorCodes.InvalidOperator, $"value {value} does not fit in 32 bits");
            values[i] = (int)value;
        }

        return values;
    }

    /// <summary>The builtin options table when it has the expected union type (the BuiltinOptions member number of
    /// schema.fbs); null when absent (defaults apply).</summary>
    public FlatTable? Options(byte expected)
    {
        if (_op.OptionsType == 0 /* NONE */) return null;
        if (_op.OptionsType != expected)
            throw Error(ErrorCodes.InvalidOperator, $"has builtin options of union type {_op.OptionsType}, expected {expected}");
        return _op.Options;
    }

    public FusedActivation Activation(sbyte value) => value switch
    {
        0 => FusedActivation.None,
        1 => FusedActivation.Relu,
        2 => FusedActivation.ReluN1To1,
        3 => FusedActivation.Relu6,
        4 => FusedActivation.Tanh,
        5 => FusedActivation.SignBit,
        _ => throw Error(ErrorCodes.InvalidOperator, $"has unknown fused activation {value}"),
    };

    public Ir.Padding Padding(sbyte value) => value switch
    {
        0 => Ir.Padding.Same,
        1 => Ir.Padding.Valid,
        _ => throw Error(ErrorCodes.InvalidOperator, $"has unknown padding {value}"),
    };
}
