using System.Diagnostics;
using System.Text.Json;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// -t:Debug on an emulated board: a real gdb-multiarch batch session against QEMU's gdb stub (through the SDK's
/// semihosting guard, QEMU in the -t:Run sandbox) stops at main, reads a variable and quits; the editor files it
/// writes point VS Code and clangd at the firmware and the compile commands.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class DebugTests(SdkPackageFixture sdk)
{
    private const string Main = """
        #include <stdio.h>

        volatile int answer = 41;

        int main(void)
        {
            answer = answer + 1;
            printf("answer=%d\n", answer);
            return 0;
        }
        """;

    [Fact]
    public void AGdbBatchSessionStopsAtMainReadsAVariableAndQuits()
    {
        var project = sdk.CreateProject("dbg", "", new Dictionary<string, string>
        {
            ["main.c"] = Main,
            ["session.gdb"] = "break main\ncontinue\nprint answer\nprint answer + 1\nquit\n",
        });

        var debug = project.Build("-t:Debug", "-p:DebugPort=0", "-p:DebugTimeout=120", "-p:DebugGdbScript=session.gdb");

        Assert.True(debug.Succeeded, debug.ToString());
        Assert.Contains("MicroTvmDebugFirmware", debug.TasksRun);
        // Stopped at main's first line (line 7 of main.c), before the increment: .data was copied by the reset code.
        Assert.Matches(@"gdb \| Breakpoint 1, main \(\) at .*main\.c:7", debug.Output);
        Assert.Contains("gdb | $1 = 41", debug.Output);
        Assert.Contains("gdb | $2 = 42", debug.Output);
        // The same sandbox as -t:Run, and the stub only through the guard's loopback socket.
        Assert.Contains("-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", debug.Output);
        Assert.Contains("-semihosting-config enable=on,target=gdb", debug.Output);
        Assert.DoesNotContain("tcp::", debug.Output);
        Assert.Empty(debug.Errors);

        // The editor files: launch.json (JSON with comments, as VS Code reads it) and .clangd.
        var launch = JsonDocument.Parse(File.ReadAllText(project.PathOf(".vscode/launch.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var configurations = launch.RootElement.GetProperty("configurations").EnumerateArray().ToList();
        var cppdbg = configurations.Single(c => c.GetProperty("type").GetString() == "cppdbg");
        Assert.Equal("${workspaceFolder}/bin/Debug/dbg.elf", cppdbg.GetProperty("program").GetString());
        Assert.Equal("localhost:1234", cppdbg.GetProperty("miDebuggerServerAddress").GetString());
        Assert.EndsWith("gdb-multiarch", cppdbg.GetProperty("miDebuggerPath").GetString());
        var cortexDebug = configurations.Single(c => c.GetProperty("type").GetString() == "cortex-debug");
        Assert.Equal("external", cortexDebug.GetProperty("servertype").GetString());
        Assert.Equal("localhost:1234", cortexDebug.GetProperty("gdbTarget").GetString());
        Assert.Contains("CompilationDatabase: \"obj/Debug\"", File.ReadAllText(project.PathOf(".clangd")));
        ClangdChecks(project, "main.c");
    }

    [Fact]
    public void EditorFilesLeaveAFileTheUserEditedAlone()
    {
        var project = sdk.CreateProject("editor", "", new Dictionary<string, string> { ["main.c"] = Main });
        project.WriteFile(".clangd", "CompileFlags:\n  Add: [-DMINE]\n");

        var first = project.Build("-t:EditorFiles", "-p:DebugPort=3456");

        Assert.True(first.Succeeded, first.ToString());
        Assert.Equal("CompileFlags:\n  Add: [-DMINE]\n", File.ReadAllText(project.PathOf(".clangd")));
        Assert.Contains("\"localhost:3456\"", File.ReadAllText(project.PathOf(".vscode/launch.json")));
        var written = File.GetLastWriteTimeUtc(project.PathOf(".vscode/launch.json"));
        Thread.Sleep(1100);
        var second = project.Build("-t:EditorFiles", "-p:DebugPort=3456");
        Assert.True(second.Succeeded, second.ToString());
        Assert.Equal(written, File.GetLastWriteTimeUtc(project.PathOf(".vscode/launch.json")));
    }

    /// <summary>clangd (Debian's clangd, where installed) reads .clangd, finds the compile commands and reports no error.</summary>
    private static void ClangdChecks(TestProject project, string source)
    {
        string? clangd = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, "clangd")).FirstOrDefault(File.Exists);
        if (clangd == null)
        {
            return; // Not installed (CI): the files' content is checked above.
        }
        var start = new ProcessStartInfo(clangd) { WorkingDirectory = project.Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--check=" + project.PathOf(source));
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string log = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "clangd --check did not end");
        log += output.Result;
        Assert.True(process.ExitCode == 0, log);
        Assert.Contains(Path.Combine(project.Directory, "obj", "Debug", "compile_commands.json"), log);
        Assert.Contains("All checks completed, 0 errors", log);
    }
}
