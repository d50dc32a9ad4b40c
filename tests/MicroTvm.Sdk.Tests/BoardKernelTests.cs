using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The target-specific kernels on the other emulated boards (the Cortex-M7 is covered by ModelFirmwareTests), and
/// the portable ones on the Cortex-M3:
/// every model in tests/models compiled for the board's CPU — DSP (SMLAD/SXTB16) kernels on the Cortex-M4 and
/// Cortex-M55 — in one firmware built with the packed SDK and run in QEMU with <c>dotnet build -t:Run</c>; on each
/// stored input the outputs must equal TensorFlow Lite Micro's byte for byte (float32 results of float arithmetic
/// within 1e-5 absolute + relative).
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class BoardKernelTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Theory]
    [InlineData("mps2-an386", null)]
    [InlineData("mps2-an505", null)]   // Cortex-M33: the DSP kernels, secure state
    [InlineData("mps2-an385", null)]   // Cortex-M3: portable kernels, software floating point
    // The AN547's 512 KiB code memory does not hold every model at once: three firmwares.
    [InlineData("mps3-an547", "ad_toycar,hello_world_float,hello_world_int8,kws_dscnn,micro_speech")]
    [InlineData("mps3-an547", "ad_toycar_int8io,ic_resnet8")]
    [InlineData("mps3-an547", "keyword_scrambled_8bit,simple_add_model,trained_lstm_int8")]
    public void EveryModelGivesTfliteMicrosOutputsOnTheBoard(string board, string? only)
    {
        string modelsRoot = Path.Combine(sdk.RepositoryRoot, "tests", "models");
        var models = Directory.GetDirectories(modelsRoot).Select(Path.GetFileName)
            .Where(m => only is null || only.Split(',').Contains(m)).Order(StringComparer.Ordinal).ToList();
        var firmware = new ModelCheckFirmware(modelsRoot);
        // <MicroModel> items: their Cpu defaults to the board's (Cortex-M4 on the AN386, Cortex-M55 on the AN547).
        foreach (var model in models) firmware.AddMicroModel(model!);

        var project = firmware.CreateProject(sdk, $"<PropertyGroup><Board>{board}</Board></PropertyGroup>", $"models-{board}-{models.Count}");
        firmware.RunAndAssertAllMatch(project, log);
    }

    /// <summary>The data-movement, ABS and NEG cases of tests/operators (every type TFLM supports for them) on the
    /// Cortex-M4: each output equals TensorFlow Lite Micro's.</summary>
    [Fact]
    public void OperatorCasesGiveTfliteMicrosOutputsOnTheCortexM4()
    {
        string casesRoot = Path.Combine(sdk.RepositoryRoot, "tests", "operators");
        string[] prefixes =
        {
            "slice_", "split_", "pack_", "unpack_", "gather_", "reverse_v2_", "broadcast_to_", "depth_to_space_", "space_to_depth_",
            "space_to_batch_nd_", "batch_to_space_nd_", "mirror_pad_", "fill_", "zeros_like_", "neg_",
        };
        var notSupported = File.ReadAllLines(Path.Combine(casesRoot, "not-supported.txt")).Select(l => l.Split('#')[0].Trim()).ToHashSet();
        var cases = Directory.GetDirectories(casesRoot).Select(d => Path.GetFileName(d)!)
            .Where(n => prefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)) && !notSupported.Contains(n))
            .Order(StringComparer.Ordinal).ToList();
        Assert.True(cases.Count >= 50, $"only {cases.Count} cases");
        var firmware = new ModelCheckFirmware(casesRoot);
        foreach (var name in cases) firmware.AddOperatorCase(casesRoot, name);
        var project = firmware.CreateProject(sdk, "<PropertyGroup><Board>mps2-an386</Board></PropertyGroup>", $"operators-{cases.Count}");
        firmware.RunAndAssertAllMatch(project, log);
    }
}
