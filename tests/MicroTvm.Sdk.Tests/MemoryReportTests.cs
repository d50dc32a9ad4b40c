using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The memory reports (bin/&lt;cfg&gt;/&lt;name&gt;.rom.txt and .ram.txt), the size report's model lines taken from the linked
/// image, the memory-plan picture and PrintfFloat, through a real build of two models of which only one is called;
/// the reports are checked against binutils' own reading of the same .elf (arm-none-eabi-size and nm).
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU and dotnet build
public sealed class MemoryReportTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    private static readonly Regex SymbolRow = new(@"^\s+(?<bytes>[\d,]+)\s+[\d.]+\s+0x(?<address>[0-9a-f]{8})\s+(?<kind>func|object)\s+(?:static )?(?<name>\S+)\s+(?<file>.+)$", RegexOptions.Multiline);

    [Fact]
    public void ReportsCountWhatWasLinkedBySymbolFileAndModel()
    {
        var project = sdk.CreateProject("reports", """
              <PropertyGroup>
                <Board>mps2-an500</Board>
              </PropertyGroup>
              <ItemGroup>
                <MicroModel Include="kws.tflite" />
                <MicroModel Include="hello.tflite" />
              </ItemGroup>
            """, new Dictionary<string, string>
            {
                ["main.c"] = """
                    #include <stdio.h>
                    #include "kws.h"
                    #include "hello.h" /* included, never called: the linker drops the whole model */

                    static uint8_t workspace[KWS_WORKSPACE_SIZE] __attribute__((aligned(KWS_WORKSPACE_ALIGNMENT)));
                    static int8_t input[KWS_INPUT0_SIZE];
                    static int8_t scores[KWS_OUTPUT0_ELEMENTS];

                    int main(void)
                    {
                        const kws_inputs inputs = { .input0 = input };
                        const kws_outputs outputs = { .output0 = scores };
                        int status = kws_run(&inputs, &outputs, workspace);
                        printf("status=%d pi=%.3f\n", status, 3.14159);
                        return status;
                    }
                    """,
            });
        File.Copy(Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", "model.tflite"), project.PathOf("kws.tflite"));
        File.Copy(Path.Combine(sdk.RepositoryRoot, "tests", "models", "hello_world_int8", "model.tflite"), project.PathOf("hello.tflite"));

        // Without PrintfFloat newlib-nano prints nothing for %f.
        var plain = project.Build("-t:MemoryReport;Run");
        Assert.True(plain.Succeeded, plain.ToString());
        Assert.Matches(@"status=0 pi=\s*$", Console(project));
        string elf = project.PathOf("bin/Debug/reports.elf");
        long plainFlash = RomAndRam(project, elf).Rom;

        string rom = File.ReadAllText(project.PathOf("bin/Debug/reports.rom.txt"));
        string ram = File.ReadAllText(project.PathOf("bin/Debug/reports.ram.txt"));
        log.WriteLine(rom[..Math.Min(rom.Length, 3000)]);
        Assert.Contains("memory reports: bin/Debug/reports.rom.txt, bin/Debug/reports.ram.txt", plain.Output);
        Assert.Contains("ROM report of bin/Debug/reports.elf (mps2-an500)", plain.Output); // -t:MemoryReport prints both
        Assert.Contains("RAM report of bin/Debug/reports.elf (mps2-an500)", plain.Output);

        // Totals: binutils' text + data (flash) and data + bss (RAM).
        var (romTotal, ramTotal) = RomAndRam(project, elf);
        Assert.Equal(romTotal, Total(rom));
        Assert.Equal(ramTotal, Total(ram));
        Assert.Equal(romTotal, Section(rom, "By file").Sum(r => r.Bytes));
        Assert.Equal(romTotal, Section(rom, "By module").Sum(r => r.Bytes));
        Assert.Equal(ramTotal, Section(ram, "By file").Sum(r => r.Bytes));

        // Symbols: exactly nm's sized symbols (address, size, name), each in the right report.
        var nm = Nm(project, elf);
        var reported = SymbolRow.Matches(rom).Concat(SymbolRow.Matches(ram))
            .Select(m => (Name: m.Groups["name"].Value, Address: Convert.ToUInt64(m.Groups["address"].Value, 16) >> 1,
                Size: long.Parse(m.Groups["bytes"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture), File: m.Groups["file"].Value.Trim()))
            .ToList();
        Assert.Equal(nm.Select(s => (s.Name, s.Address, s.Size)).Order(), reported.Select(s => (s.Name, s.Address, s.Size)).Distinct().Order());
        Assert.All(nm.Where(s => s.Type is 'B' or 'b'), s => Assert.Contains(SymbolRow.Matches(ram), m => m.Groups["name"].Value == s.Name));
        Assert.All(nm.Where(s => s.Type is 'T' or 't' or 'R' or 'r'), s => Assert.Contains(SymbolRow.Matches(rom), m => m.Groups["name"].Value == s.Name));
        Assert.Contains(reported, s => s.Name == "kws_run" && s.File == "obj/Debug/models/kws.c");
        Assert.Contains(reported, s => s.Name == "main" && s.File == "main.c");
        Assert.Contains(reported, s => s.Name == "workspace" && s.File == "main.c");
        Assert.Contains(reported, s => s.Name == "memcpy" || s.File.StartsWith("libc_nano.a(", StringComparison.Ordinal));
        Assert.DoesNotContain(nm, s => s.Name.StartsWith("hello_", StringComparison.Ordinal));

        // Models: the called one by its object's bytes in the image; the dropped one counts nothing, whatever its JSON says.
        long kwsRom = Section(rom, "By file").Single(r => r.Name == "obj/Debug/models/kws.c").Bytes;
        Assert.Equal(kwsRom, Section(rom, "By module").Single(r => r.Name == "model kws").Bytes);
        Assert.DoesNotContain(Section(rom, "By file"), r => r.Name.Contains("hello", StringComparison.Ordinal));
        var kwsJson = JsonDocument.Parse(File.ReadAllText(project.PathOf("obj/Debug/models/kws.json"))).RootElement;
        var helloJson = JsonDocument.Parse(File.ReadAllText(project.PathOf("obj/Debug/models/hello.json"))).RootElement;
        long weights = kwsJson.GetProperty("weightsBytes").GetInt64(), workspace = kwsJson.GetProperty("workspaceBytes").GetInt64();
        Assert.InRange(kwsRom, weights + 1, weights + 64 * 1024);
        Assert.True(helloJson.GetProperty("weightsBytes").GetInt64() > 0);
        string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        Assert.Contains($"model kws (kws.tflite): {N(kwsRom)} bytes flash in the image (code and constants; weights {N(weights)}), workspace {N(workspace)} bytes (RAM); memory plan obj/Debug/models/kws.plan.svg", plain.Output);
        Assert.Contains("model hello (hello.tflite): not in the image (nothing calls hello_run, so the linker dropped it): 0 bytes flash, 0 bytes RAM; memory plan obj/Debug/models/hello.plan.svg", plain.Output);
        var picture = XDocument.Load(project.PathOf("obj/Debug/models/kws.plan.svg"));
        Assert.Equal(kwsJson.GetProperty("memoryPlan").EnumerateArray().Count(t => t.TryGetProperty("offset", out var o) && o.ValueKind == JsonValueKind.Number && t.GetProperty("bytes").GetInt64() > 0),
            picture.Descendants().Count(e => (string?)e.Attribute("class") == "tensor"));

        // A no-op build rewrites no report.
        var before = project.SnapshotOutputs();
        Assert.True(project.Build().Succeeded);
        Assert.Equal(before, project.SnapshotOutputs());

        // PrintfFloat links nano's float printf: %f prints, at a cost in flash the report shows.
        var withFloat = project.Build("-p:PrintfFloat=true", "-t:Run;RomReport");
        Assert.True(withFloat.Succeeded, withFloat.ToString());
        Assert.Contains("status=0 pi=3.142", Console(project));
        long floatFlash = RomAndRam(project, elf).Rom;
        log.WriteLine($"PrintfFloat: flash {plainFlash:N0} -> {floatFlash:N0} bytes (+{floatFlash - plainFlash:N0})");
        Assert.True(floatFlash > plainFlash + 1000, $"{plainFlash} -> {floatFlash}");
        Assert.Contains(SymbolRow.Matches(File.ReadAllText(project.PathOf("bin/Debug/reports.rom.txt"))), m => m.Groups["name"].Value == "_printf_float");
        Assert.DoesNotContain("RAM report of", withFloat.Output); // -t:RomReport prints the ROM report only

        // Each model as a C library (-t:ModelLibrary): a folder with the archive prebuilt for the board's CPU.
        var library = project.Build("-t:ModelLibrary");
        Assert.True(library.Succeeded, library.ToString());
        foreach (string model in new[] { "kws", "hello" })
        {
            string archive = project.PathOf($"bin/Debug/models/{model}/lib/cortex-m7/lib{model}.a");
            Assert.True(File.Exists(archive), library.Output);
            Assert.Matches($@"(?m)^[0-9a-f]+ T {model}_run\s*$", DotNet.RunProgram("arm-none-eabi-nm", project.Directory, [archive], TimeSpan.FromMinutes(1)).Output);
            Assert.True(File.Exists(project.PathOf($"bin/Debug/models/{model}/CMakeLists.txt")));
            Assert.Contains($"model {model} as a C library -> {project.PathOf($"bin/Debug/models/{model}")}", library.Output);
        }
        var unchanged = project.Build("-t:ModelLibrary");
        Assert.True(unchanged.Succeeded, unchanged.ToString());
        Assert.DoesNotContain("as a C library", unchanged.Output);

        // The library gets the project's weight layout: compact int8 filters make kws's archive smaller on the M7.
        string kwsArchive = project.PathOf("bin/Debug/models/kws/lib/cortex-m7/libkws.a");
        long speedText = ArchiveText(project, kwsArchive);
        var compact = project.Build("-t:ModelLibrary", "-p:MicroTvmWeightLayout=size");
        Assert.True(compact.Succeeded, compact.ToString());
        long sizeText = ArchiveText(project, kwsArchive);
        log.WriteLine($"kws library text: speed layout {speedText:N0} B, size layout {sizeText:N0} B");
        Assert.True(sizeText < speedText - 10_000, $"{speedText} -> {sizeText}");
    }

    /// <summary>arm-none-eabi-size -t: the text (code and constants) of every member of an archive.</summary>
    private static long ArchiveText(TestProject project, string archive)
    {
        var size = DotNet.RunProgram("arm-none-eabi-size", project.Directory, ["-t", archive], TimeSpan.FromMinutes(1));
        Assert.Equal(0, size.ExitCode);
        return long.Parse(size.Output.Trim().Split('\n')[^1].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
    }

    private static string Console(TestProject project) => File.ReadAllText(project.PathOf("bin/Debug/reports.console.txt"));

    private static long Total(string report) =>
        long.Parse(Regex.Match(report, @"^\w+ report of .*: ([\d,]+) bytes$", RegexOptions.Multiline).Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    /// <summary>Rows of one table ("By module", "By file") of a report: bytes and name.</summary>
    private static List<(long Bytes, string Name)> Section(string report, string title)
    {
        var rows = new List<(long, string)>();
        var lines = report.Split('\n');
        int start = Array.IndexOf(lines, title) + 2;
        Assert.True(start >= 2, title + " missing:\n" + report);
        for (int i = start; i < lines.Length && lines[i].Length > 0; i++)
        {
            var m = Regex.Match(lines[i], @"^\s+([\d,]+)\s+[\d.]+\s+(.+)$");
            Assert.True(m.Success, lines[i]);
            rows.Add((long.Parse(m.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture), m.Groups[2].Value));
        }
        return rows;
    }

    /// <summary>arm-none-eabi-size (Berkeley): flash = text + data, RAM = data + bss.</summary>
    private static (long Rom, long Ram) RomAndRam(TestProject project, string elf)
    {
        var size = DotNet.RunProgram("arm-none-eabi-size", project.Directory, [elf], TimeSpan.FromMinutes(1));
        Assert.Equal(0, size.ExitCode);
        var f = size.Output.Split('\n')[1].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(3).Select(long.Parse).ToArray();
        return (f[0] + f[1], f[1] + f[2]);
    }

    /// <summary>arm-none-eabi-nm's symbols with a size (name, address / 2 as a Thumb function's address has its mode bit, size, type letter).</summary>
    private static List<(string Name, ulong Address, long Size, char Type)> Nm(TestProject project, string elf)
    {
        var nm = DotNet.RunProgram("arm-none-eabi-nm", project.Directory, ["-S", "--size-sort", elf], TimeSpan.FromMinutes(1));
        Assert.Equal(0, nm.ExitCode);
        return nm.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
            .Where(p => p.Length == 4)
            .Select(p => (p[3].Trim(), Convert.ToUInt64(p[0], 16) >> 1, Convert.ToInt64(p[1], 16), p[2][0])).ToList();
    }
}
