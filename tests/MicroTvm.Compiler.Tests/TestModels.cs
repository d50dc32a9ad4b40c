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
