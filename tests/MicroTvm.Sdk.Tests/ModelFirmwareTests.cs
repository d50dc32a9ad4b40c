using MicroTvm.Compiler.Codegen;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// Every model in tests/models as a <c>&lt;MicroModel&gt;</c> item of one firmware (several models must not clash),
/// and again generated with the portable C kernels only (<see cref="CompileOptions.PortableKernels"/>),
/// built with the packed SDK and run in QEMU (mps2-an500) with <c>dotnet build -t:Run</c>: on each stored input
/// the outputs must equal TensorFlow Lite Micro's byte for byte (float32 results of float arithmetic within
/// 1e-5 absolute + relative: TFLM's own float outputs differ between x86-64 and Cortex-M in the last bits).
/// The firmware prints the instructions each inference took (QEMU -icount shift=0: 1 ns = 1 instruction).
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class ModelFirmwareTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Fact]
    public void EveryModelGivesTfliteMicrosOutputsOnTheEmulatedCortexM7()
    {
        string modelsRoot = Path.Combine(sdk.RepositoryRoot, "tests", "models");
        var firmware = new ModelCheckFirmware(modelsRoot);
        foreach (var model in Directory.GetDirectories(modelsRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            // The build compiles models/<name>.tflite (a MicroModel item; its Name defaults to the file name).
            firmware.AddMicroModel(model!);
            // The same model with the portable C kernels only (what Cortex-M0+/M3 run), generated here.
            firmware.AddGenerated(model!, new CompileOptions("cortex-m7", model + "_portable", PortableKernels: true), "portable");
        }

        firmware.RunAndAssertAllMatch(firmware.CreateProject(sdk, ""), log);
    }
}
