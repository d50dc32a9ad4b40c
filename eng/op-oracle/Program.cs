using System.Buffers.Binary;
using System.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using static MicroTvm.OpOracle.Codes;
using O = MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder.Options;

namespace MicroTvm.OpOracle;

/// <summary>
/// dotnet run --project eng/op-oracle -- &lt;tflm_run&gt; &lt;output folder&gt; [name filter]
/// dotnet run --project eng/op-oracle -- --check &lt;output folder&gt;: each case through the compiler's reference
/// evaluator: "rejected" (with the error), "equal", or "DIFFERS" (element counts), to write not-supported.txt.
/// Writes each case's model.tflite and input0.bin (random, seeded by the case's name) into &lt;output folder&gt;/&lt;case&gt;/
/// and runs &lt;tflm_run&gt; on them for output0.bin. A case TFLM refuses (AllocateTensors or Invoke fails) is removed
/// and listed in refused.txt: the refusal is itself a fact about what TFLM accepts.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "--check") return Check.Run(Path.GetFullPath(args[1]));
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: op-oracle <tflm_run> <output folder> [name filter]");
            return 2;
        }

        string runner = Path.GetFullPath(args[0]), root = Path.GetFullPath(args[1]);
        string? filter = args.Length > 2 ? args[2] : null;
        var refused = new List<string>();
        int written = 0;
        foreach (var (name, build) in Cases.All())
        {
            if (filter is not null && !name.Contains(filter, StringComparison.Ordinal)) continue;
            var model = new CaseModel(name);
            build(model);
            var dir = Path.Combine(root, name);
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, "model.tflite"), model.Builder.Build());
            File.WriteAllBytes(Path.Combine(dir, "input0.bin"), model.InputBytes());
            var (code, text) = Run(runner, dir);
            if (code != 0)
            {
                Directory.Delete(dir, recursive: true);
                refused.Add($"{name}: {text.Trim().Replace('\n', ' ')}");
                Console.WriteLine($"refused {name}: {text.Trim()}");
                continue;
            }

            written++;
        }

        if (filter is null) File.WriteAllLines(Path.Combine(root, "refused.txt"), refused);
        Console.WriteLine($"{written} cases written, {refused.Count} refused by TFLM");
        return 0;
    }

    private static (int, string) Run(string runner, string dir)
    {
        var start = new ProcessStartInfo(runner, new[] { "model.tflite", "input0.bin", "output0.bin" })
        {
            WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        string text = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, text);
    }
}

/// <summary>BuiltinOperator values used here beyond the builder's list (schema.fbs).</summary>
public static class Codes
{
    public const int DepthToSpace = 5, Floor = 8, L2Normalization = 11, ResizeBilinear = 23, SpaceToDepth = 26, Gather = 36,
        BatchToSpaceNd = 37, SpaceToBatchNd = 38, Exp = 47, Split = 49, LogSoftmax = 50, Cast = 53, Prelu = 54, ArgMax = 56,
        Less = 58, Neg = 59, Greater = 61, GreaterEqual = 62, LessEqual = 63, Slice = 65, Sin = 66, Tile = 69, Equal = 71,
        NotEqual = 72, Log = 73, UnidirectionalSequenceLstm = 44, Sum = 74, Sqrt = 75, Rsqrt = 76, Shape = 77, ArgMin = 79, ReduceMax = 82, Pack = 83,
        LogicalOr = 84, LogicalAnd = 86, LogicalNot = 87, Unpack = 88, ReduceMin = 89, FloorDiv = 90, Square = 92,
        ZerosLike = 93, Fill = 94, FloorMod = 95, ResizeNearestNeighbor = 97, SquaredDifference = 99, MirrorPad = 100,
        Abs = 101, SplitV = 102, Ceil = 104, ReverseV2 = 105, AddN = 106, GatherNd = 107, Cos = 108, Elu = 111, Round = 116,
        SelectV2 = 123, BatchMatMul = 126, CumSum = 128, BroadcastTo = 130;
}

/// <summary>One case's model under construction, with how to draw each of its inputs.</summary>
public sealed class CaseModel
{
    private readonly List<Func<Random, byte[]>> _inputs = new();
    private readonly Random _random;

    public CaseModel(string name)
    {
        // A stable seed per case (string.GetHashCode is randomised per process).
        uint hash = 2166136261;
        foreach (char c in name) hash = (hash ^ c) * 16777619;
        _random = new Random((int)(hash & 0x7fffffff));
    }

    public TfliteModelBuilder Builder { get; } = new();

    public Random Random => _random;

    /// <summary>A graph input; values uniform over the type's range (float32 and int32 over [lo, hi]).</summary>
    public int Input(ElementType type, int[] shape, (float, long)? q = null, double lo = -4, double hi = 4)
    {
        int id = Builder.AddTensor($"in{_inputs.Count}", type, shape, null, q);
        Builder.Inputs.Add(id);
        int count = shape.Aggregate(1, (a, b) => a * b);
        _inputs.Add(r => Draw(r, type, count, lo, hi));
        return id;
    }

    public int Tensor(ElementType type, int[] shape, (float, long)? q = null) =>
        Builder.AddTensor($"t{Guid.NewGuid():N}"[..9], type, shape, null, q);

    public int Output(ElementType type, int[] shape, (float, long)? q = null)
    {
        int id = Builder.AddTensor($"out{Builder.Outputs.Count}", type, shape, null, q);
        Builder.Outputs.Add(id);
        return id;
    }

    public int ConstInt32(params int[] values) => Builder.AddTensor("c", ElementType.Int32, new[] { values.Length }, TfliteModelBuilder.Int32s(values));

    public int ConstInt32Shaped(int[] shape, params int[] values) => Builder.AddTensor("c", ElementType.Int32, shape, TfliteModelBuilder.Int32s(values));

    /// <summary>A random constant (weights, alphas).</summary>
    public int Const(ElementType type, int[] shape, (float, long)? q = null, double lo = -1, double hi = 1) =>
        Builder.AddTensor("w", type, shape, Draw(_random, type, shape.Aggregate(1, (a, b) => a * b), lo, hi), q);

    public void Op(int code, int[] inputs, int[] outputs, O? options = null) => Builder.AddOperator(code, inputs, outputs, options);

    public byte[] InputBytes() => _inputs.SelectMany(f => f(_random)).ToArray();

    public static byte[] Draw(Random r, ElementType type, int count, double lo, double hi)
    {
        var bytes = new byte[count * type.SizeInBytes()];
        for (int i = 0; i < count; i++)
        {
            var span = bytes.AsSpan(i * type.SizeInBytes());
            switch (type)
            {
                case ElementType.Float32: BinaryPrimitives.WriteSingleLittleEndian(span, (float)(lo + (hi - lo) * r.NextDouble())); break;
                case ElementType.Int8: span[0] = (byte)r.Next(256); break;
                case ElementType.Int16: BinaryPrimitives.WriteInt16LittleEndian(span, (short)r.Next(-32768, 32768)); break;
                case ElementType.Int32: BinaryPrimitives.WriteInt32LittleEndian(span, r.Next((int)lo, (int)hi + 1)); break;
                case ElementType.Int64: BinaryPrimitives.WriteInt64LittleEndian(span, r.Next((int)lo, (int)hi + 1)); break;
                case ElementType.Bool: span[0] = (byte)r.Next(2); break;
                default: throw new ArgumentOutOfRangeException(nameof(type));
            }
        }

        return bytes;
    }
}
