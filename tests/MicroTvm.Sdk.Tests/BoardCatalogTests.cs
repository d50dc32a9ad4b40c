using System.Buffers.Binary;
using System.Text.RegularExpressions;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The board catalog: -t:Boards lists every board folder of the packed SDK, and each real board (nucleo-f746zg at
/// 216 MHz with caches, nucleo-h743zi, nrf52840dk, rpi-pico2) builds a firmware with a model that links into its memory,
/// with the vector table (and on the RP2350 the boot ROM's IMAGE_DEF block) where the chip starts. Nothing here runs
/// on hardware: the boards' clock, console and timer code is compiled and linked, not executed.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class BoardCatalogTests(SdkPackageFixture sdk)
{
    [Fact]
    public void BoardsListsTheCatalogWithCpuMemoryAndHowEachRuns()
    {
        var project = sdk.CreateProject("boards", "", Projects.ThreeSources());

        var boards = project.Build("-t:Boards");

        Assert.True(boards.Succeeded, boards.ToString());
        var folders = Directory.GetDirectories(Path.Combine(sdk.RepositoryRoot, "templates", "firmware", "boards"))
            .Where(d => File.Exists(Path.Combine(d, "board.props"))).Select(Path.GetFileName).ToList();
        Assert.True(folders.Count >= 9);
        foreach (var board in folders)
        {
            Assert.Matches(new Regex($@"^\s+{Regex.Escape(board!)}\s+cortex-m", RegexOptions.Multiline), boards.Output);
        }
        Assert.Matches(@"\s+mps2-an500\s+cortex-m7\s+4 MiB\s+4 MiB\s+emulated \(qemu-system-arm mps2-an500\)", boards.Output);
        Assert.Matches(@"\s+mps3-an547\s+cortex-m55\s+512 KiB\s+512 KiB\s+emulated", boards.Output);
        Assert.Matches(@"\s+nucleo-f746zg\s+cortex-m7\s+1 MiB\s+320 KiB\s+hardware, flash with openocd", boards.Output);
        Assert.Matches(@"\s+nucleo-h743zi\s+cortex-m7\s+2 MiB\s+512 KiB\s+hardware, flash with openocd", boards.Output);
        Assert.Matches(@"\s+nrf52840dk\s+cortex-m4\s+1 MiB\s+256 KiB\s+hardware, flash with jlink", boards.Output);
        Assert.Matches(@"\s+rpi-pico2\s+cortex-m33\s+4 MiB\s+512 KiB\s+hardware, flash with openocd", boards.Output);
        Assert.Contains($"boards -> ", boards.Output);
        Assert.Contains($"({folders.Count} boards: ", boards.Output);
    }

    public static TheoryData<string, uint, uint, uint> RealBoards => new()
    {
        // board, flash origin, RAM origin, RAM length
        { "nucleo-f746zg", 0x08000000, 0x20000000, 320 * 1024 },
        { "nucleo-h743zi", 0x08000000, 0x24000000, 512 * 1024 },
        { "nrf52840dk", 0x00000000, 0x20000000, 256 * 1024 },
        { "rpi-pico2", 0x10000000, 0x20000000, 512 * 1024 },
    };

    [Theory]
    [MemberData(nameof(RealBoards))]
    public void ARealBoardBuildsAModelFirmwareThatFitsAndStartsWhereTheChipDoes(string board, uint flashOrigin, uint ramOrigin, uint ramLength)
    {
        var project = sdk.CreateProject("fw-" + board, $"""
              <PropertyGroup><Board>{board}</Board></PropertyGroup>
              <ItemGroup><MicroModel Include="kws.tflite" /></ItemGroup>
            """, Projects.SingleMain("""
            #include "kws.h"

            static int8_t features[KWS_INPUT0_ELEMENTS];
            static int8_t scores[KWS_OUTPUT0_ELEMENTS];
            static uint8_t workspace[KWS_WORKSPACE_SIZE] __attribute__((aligned(KWS_WORKSPACE_ALIGNMENT)));

            int main(void)
            {
                const kws_inputs in = { .input0 = features };
                const kws_outputs out = { .output0 = scores };
                int status = kws_run(&in, &out, workspace);
                printf("status %d, score %d, %llu ns\n", status, scores[0], (unsigned long long)microtvm_timer_ticks_to_ns(microtvm_timer_now()));
                return status;
            }
            """));
        File.Copy(Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", "model.tflite"), project.PathOf("kws.tflite"));

        var build = project.Build();

        Assert.True(build.Succeeded, build.ToString());
        Assert.Matches(@"model kws \(kws\.tflite\): [\d,]+ bytes flash in the image \(code and constants; weights [\d,]+\)", build.Output);
        Assert.Matches($@"-> .*fw-{Regex.Escape(board)}\.elf \({Regex.Escape(board)}: Flash [\d,]+ B", build.Output);
        // The image starts with the vector table: the initial stack pointer inside the board's RAM (8-byte aligned, above
        // the model's workspace and the stack), the reset vector a Thumb address inside the image.
        byte[] image = File.ReadAllBytes(project.PathOf($"bin/Debug/fw-{board}.bin"));
        uint stackTop = BinaryPrimitives.ReadUInt32LittleEndian(image);
        Assert.InRange(stackTop, ramOrigin + 32768u + 16000u, ramOrigin + ramLength);
        Assert.Equal(0u, stackTop % 8);
        uint reset = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(4));
        Assert.Equal(1u, reset & 1u);
        Assert.InRange(reset, flashOrigin, flashOrigin + (uint)image.Length);
        if (board == "rpi-pico2")
        {
            // RP2350 boot ROM: an IMAGE_DEF block (start marker ... end marker) within the first 4 KiB.
            uint[] block = [0xFFFFDED3, 0x10210142, 0x000001FF, 0x00000000, 0xAB123579];
            int at = Enumerable.Range(0, 4096 / 4 - 5).Select(w => w * 4)
                .FirstOrDefault(o => block.Select((v, i) => BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(o + 4 * i)) == v).All(x => x), -1);
            Assert.Equal(0x40, at);
        }
    }
}
