namespace MicroTvm.Compiler.Tests;

/// <summary>
/// The correctness-oracle models in tests/models (copied from the team's shared folder: TFLite models with inputs,
/// outputs and per-layer intermediates produced by TensorFlow Lite Micro's reference kernels).
/// </summary>
public static class TestModels
{
    public static string Root { get; } = FindRoot();

    /// <summary>Names of every model folder, for [MemberData].</summary>
    public static IEnumerable<object[]> All() =>
        Directory.GetDirectories(Root).Select(Path.GetFileName).Order().Select(name => new object[] { name! });

    public static string Folder(string model) => Path.Combine(Root, model);

    public static string ModelPath(string model) => Path.Combine(Root, model, "model.tflite");

    /// <summary>Stored input vector <paramref name="vector"/> of <paramref name="model"/>, split into the graph's inputs:
    /// a model with several inputs stores them back to back in <c>input{k}.bin</c>, in the graph's input order.</summary>
    public static IReadOnlyList<byte[]> Inputs(string model, Ir.Graph graph, int vector) =>
        Split(File.ReadAllBytes(Path.Combine(Folder(model), $"input{vector}.bin")), graph.Inputs, $"{model}/input{vector}.bin");

    /// <summary>Stored output vector <paramref name="vector"/>, split into the graph's outputs likewise.</summary>
    public static IReadOnlyList<byte[]> Outputs(string model, Ir.Graph graph, int vector) =>
        Split(File.ReadAllBytes(Path.Combine(Folder(model), $"output{vector}.bin")), graph.Outputs, $"{model}/output{vector}.bin");

    private static IReadOnlyList<byte[]> Split(byte[] bytes, IReadOnlyList<Ir.Tensor> tensors, string file)
    {
        long total = tensors.Sum(t => t.ByteSize);
        if (bytes.LongLength != total) throw new InvalidDataException($"{file} has {bytes.Length} bytes; the model's tensors need {total}");
        var parts = new List<byte[]>();
        long offset = 0;
        foreach (var t in tensors)
        {
            parts.Add(bytes[(int)offset..(int)(offset + t.ByteSize)]);
            offset += t.ByteSize;
        }

        return parts;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "models");
            if (File.Exists(Path.Combine(candidate, "README.md"))) return candidate;
        }

        throw new DirectoryNotFoundException("tests/models not found above " + AppContext.BaseDirectory);
    }
}
