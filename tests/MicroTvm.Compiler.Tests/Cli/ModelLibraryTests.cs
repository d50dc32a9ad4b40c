using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Tests.Codegen;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Cli.CliRunner;

namespace MicroTvm.Compiler.Tests.Cli;

/// <summary>
/// <c>microtvm compile --format library</c> against a firmware built elsewhere: a plain CMake project (its own CMakeLists,
/// the board's startup code and linker script, arm-none-eabi-gcc) adds the library folder with add_subdirectory, links
/// the prebuilt archive, and runs in QEMU on the emulated Cortex-M7; its outputs must be TFLite Micro's.
/// </summary>
[Trait("Speed", "Slow")] // cmake, arm-none-eabi-gcc and QEMU
public class ModelLibraryTests(ITestOutputHelper log)
{
    private static string RepositoryRoot => Path.GetFullPath(Path.Combine(TestModels.Root, "..", ".."));

    [Fact]
    public void CMakeFirmwareLinksThePrebuiltLibraryAndRunsTfliteMicrosOutputsInQemu()
    {
        string dir = Gcc.TemporaryDirectory("library");
        string library = Path.Combine(dir, "kws");
        var (exit, output, error) = Run("compile", TestModels.ModelPath("kws_dscnn"), "--target", "cortex-m7", "--name", "kws", "--format", "library", "-o", library);
        Assert.True(exit == 0, error);
        string[] expectedFiles = ["CMakeLists.txt", "README.md", "include/kws.h", "kws.json", "kws.plan.svg", "lib/cortex-m7/libkws.a", "src/kws.c"];
        Assert.Equal(expectedFiles, Directory.GetFiles(library, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(library, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
        Assert.Contains(Path.Combine(library, "lib", "cortex-m7", "libkws.a"), output);
        Assert.DoesNotContain(Directory.GetDirectories(dir), d => d.Contains(".tmp-", StringComparison.Ordinal));

        // The archive: the model's entry point, built for the Cortex-M7 with the hard-float ABI.
        string archive = Path.Combine(library, "lib", "cortex-m7", "libkws.a");
        Assert.Matches(@"(?m)^[0-9a-f]+ T kws_run$", Tool("arm-none-eabi-nm", dir, archive));
        string attributes = Tool("arm-none-eabi-readelf", dir, "-A", archive);
        Assert.Contains("Tag_CPU_arch: v7E-M", attributes);
        Assert.Contains("Tag_FP_arch: FPv5/FP-D16", attributes);
        Assert.Contains("Tag_ABI_VFP_args: VFP registers", attributes);
        log.WriteLine($"libkws.a: {new FileInfo(archive).Length:N0} bytes; " + Tool("arm-none-eabi-size", dir, archive).Split('\n')[1].Trim());

        var inputs = new StringBuilder("#include <stdint.h>\nstatic const int8_t test_inputs[3][490] = {\n");
        for (int k = 0; k < 3; k++)
            inputs.Append("  {").Append(string.Join(",", File.ReadAllBytes(Path.Combine(TestModels.Folder("kws_dscnn"), $"input{k}.bin")).Select(b => ((sbyte)b).ToString()))).Append("},\n");
        string console = BuildAndRunCMakeFirmware(dir, "kws", """
            #include <stdio.h>
            #include "kws.h"
            #include "inputs.h"

            static uint8_t workspace[KWS_WORKSPACE_SIZE] __attribute__((aligned(KWS_WORKSPACE_ALIGNMENT)));

            int main(void)
            {
                _Static_assert(KWS_INPUT0_SIZE == 490, "input size");
                for (int k = 0; k < 3; k++) {
                    kws_output0_t scores[KWS_OUTPUT0_ELEMENTS];
                    const kws_inputs inputs = { .input0 = test_inputs[k] };
                    const kws_outputs outputs = { .output0 = scores };
                    if (kws_run(&inputs, &outputs, workspace) != 0) return 2;
                    printf("output %d:", k);
                    for (int c = 0; c < KWS_OUTPUT0_ELEMENTS; c++) printf(" %d", scores[c]);
                    printf("\n");
                }
                return 0;
            }
            """, new Dictionary<string, string> { ["inputs.h"] = inputs.Append("};\n").ToString() });
        for (int k = 0; k < 3; k++)
        {
            var expected = File.ReadAllBytes(Path.Combine(TestModels.Folder("kws_dscnn"), $"output{k}.bin")).Select(b => (int)(sbyte)b);
            var line = Regex.Match(console, $@"output {k}:((?: -?\d+)+)");
            Assert.True(line.Success, console);
            Assert.Equal(expected, line.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
        }
    }

    [Fact]
    public void ACustomOperatorsSourceTravelsInTheLibraryAndItsFirmwareRunsInQemu()
    {
        string dir = Gcc.TemporaryDirectory("library-custom");
        File.WriteAllBytes(Path.Combine(dir, "net.tflite"), CustomOperatorModel.Model(CustomOperatorModel.Options(3, -5)));
        Directory.CreateDirectory(Path.Combine(dir, "ops"));
        File.WriteAllText(Path.Combine(dir, "ops", "scale_shift.c"), CustomOperatorModel.Implementation);
        string library = Path.Combine(dir, "net");

        var (exit, output, error) = Run("compile", Path.Combine(dir, "net.tflite"), "--target", "cortex-m7", "--name", "net", "--format", "library",
            "--custom-op", CustomOperatorModel.Code + ":40", "--custom-op-source", Path.Combine(dir, "ops", "scale_shift.c"), "-o", library);

        Assert.True(exit == 0, error);
        Assert.True(File.Exists(Path.Combine(library, "src", "operators", "scale_shift.c")));
        Assert.True(File.Exists(Path.Combine(library, "include", "microtvm", "custom_op.h")));
        Assert.Matches(@"(?m)^[0-9a-f]+ T Vendor_ScaleShift$", Tool("arm-none-eabi-nm", dir, Path.Combine(library, "lib", "cortex-m7", "libnet.a")));
        Assert.Contains("| `Vendor.ScaleShift` | `Vendor_ScaleShift` | `src/operators/scale_shift.c`, in the archive |", File.ReadAllText(Path.Combine(library, "README.md")));
        // The zip beside the folder holds the same files.
        using (var zip = System.IO.Compression.ZipFile.OpenRead(library + ".zip"))
        {
            Assert.Equal(Directory.GetFiles(library, "*", SearchOption.AllDirectories).Select(f => "net/" + Path.GetRelativePath(library, f).Replace('\\', '/')).Order(StringComparer.Ordinal),
                zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
            var source = zip.GetEntry("net/src/operators/scale_shift.c")!;
            using var reader = new StreamReader(source.Open());
            Assert.Equal(CustomOperatorModel.Implementation, reader.ReadToEnd());
        }
        Assert.Contains(library + ".zip", output);

        string console = BuildAndRunCMakeFirmware(dir, "net", CustomOperatorModel.FirmwareMain);

        Assert.Contains("status 0", console);
        sbyte[] x = { -128, -1, 0, 1, 16, 127, -64, 5 };
        var expected = CustomOperatorModel.Expected(x.Select(v => unchecked((byte)v)).ToArray(), 3, -5).Select(b => (int)(sbyte)b);
        var y = Regex.Match(console, @"(?m)^y((?: -?\d+)+)");
        Assert.True(y.Success, console);
        Assert.Equal(expected, y.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
    }

    /// <summary>
    /// A CMake firmware of its own for mps2-an500 (the board files of the repository, arm-none-eabi-gcc) that adds the
    /// library folder <paramref name="dir"/>/<paramref name="model"/> with add_subdirectory and links it; built, then run
    /// in QEMU: its console.
    /// </summary>
    private string BuildAndRunCMakeFirmware(string dir, string model, string mainC, IReadOnlyDictionary<string, string>? files = null)
    {
        string app = Path.Combine(dir, "app");
        Directory.CreateDirectory(app);
        string boards = Path.Combine(RepositoryRoot, "templates", "firmware", "boards").Replace('\\', '/');
        string crt = Path.Combine(RepositoryRoot, "crt").Replace('\\', '/');
        File.WriteAllText(Path.Combine(app, "CMakeLists.txt"), $$"""
            cmake_minimum_required(VERSION 3.13)
            set(CMAKE_SYSTEM_NAME Generic)
            set(CMAKE_SYSTEM_PROCESSOR arm)
            set(CMAKE_C_COMPILER arm-none-eabi-gcc)
            set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
            project({{model}}_app C)
            set(CPU_FLAGS -mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard)
            add_subdirectory(../{{model}} {{model}})
            add_executable(app.elf main.c
              {{boards}}/common/cortexm_startup.c {{boards}}/common/board_init.c {{boards}}/common/cmsdk_uart.c
              {{boards}}/common/systick_timer.c {{boards}}/common/semihosting_exit.c {{crt}}/src/platform.c)
            target_include_directories(app.elf PRIVATE {{crt}}/include)
            target_compile_definitions(app.elf PRIVATE MICROTVM_UART_BASE=0x40004000u MICROTVM_UART_CLOCK_HZ=25000000u MICROTVM_CPU_CLOCK_HZ=25000000u)
            target_compile_options(app.elf PRIVATE ${CPU_FLAGS} -O2 -ffunction-sections -fdata-sections)
            target_link_options(app.elf PRIVATE ${CPU_FLAGS} -nostartfiles --specs=nano.specs --specs=nosys.specs -Wl,--gc-sections
              -L{{boards}}/common -T{{boards}}/mps2-an500/mps2-an500.ld)
            target_link_libraries(app.elf PRIVATE {{model}})
            """);
        File.WriteAllText(Path.Combine(app, "main.c"), mainC);
        foreach (var (name, text) in files ?? new Dictionary<string, string>())
            File.WriteAllText(Path.Combine(app, name), text);
        string build = Path.Combine(dir, "build");
        Tool("cmake", dir, "-S", app, "-B", build);
        Tool("cmake", dir, "--build", build);
        string elf = Path.Combine(build, "app.elf");
        Assert.True(File.Exists(elf));
        string console = Tool("qemu-system-arm", dir, "-machine", "mps2-an500", "-nographic", "-monitor", "none", "-serial", "stdio",
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0", "-kernel", elf);
        log.WriteLine(console);
        return console;
    }

    [Fact]
    public void MissingToolchainIsAnErrorAndWritesNothing()
    {
        string dir = Gcc.TemporaryDirectory("library-no-gcc");
        string library = Path.Combine(dir, "kws");
        var (exit, _, error) = Run("compile", TestModels.ModelPath("hello_world_int8"), "--target", "cortex-m4", "--format", "library",
            "--toolchain", Path.Combine(dir, "no-such-folder"), "-o", library);
        Assert.Equal(1, exit);
        Assert.Contains("error MTVM3180: arm-none-eabi-gcc is not in the toolchain folder", error);
        Assert.Empty(Directory.GetFileSystemEntries(dir));

        var (badExit, _, badError) = Run("compile", TestModels.ModelPath("hello_world_int8"), "--target", "cortex-m4", "--format", "library",
            "--gcc-flags=-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mno-such-flag", "-o", library);
        Assert.Equal(1, badExit);
        Assert.Contains("error MTVM3181: arm-none-eabi-gcc", badError);
        Assert.Contains("-mno-such-flag", badError);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    private static string Tool(string tool, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} did not finish within 5 minutes");
        }
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output.Result}\n{error}");
        return output.Result;
    }
}
