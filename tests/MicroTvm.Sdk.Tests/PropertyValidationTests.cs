using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>Project properties a typo would turn into a hang, a silent skip or an import from anywhere: each is
/// checked with a coded error that points at the project.</summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // dotnet pack and build, gcc, QEMU: not in eng/test.sh --fast
public sealed class PropertyValidationTests(SdkPackageFixture sdk)
{
    [Fact]
    public void AStackTooSmallForTheRuntimeIsRefusedBeforeLinking()
    {
        var project = sdk.CreateProject("stack", "", Projects.ThreeSources());

        // StackSize=0 used to link and then hang until RunTimeout; 1000 is below the runtime's need, 1028 is not
        // a multiple of 8, "lots" is no number.
        foreach (var stackSize in new[] { "0", "1000", "1028", "lots" })
        {
            var run = project.Build("-t:Run", $"-p:StackSize={stackSize}", "-p:RunTimeout=20");

            Assert.False(run.Succeeded);
            var error = Assert.Single(run.Errors);
            Assert.Equal("MTVM0110", error.Code);
            Assert.Equal(project.ProjectFile, error.File);
            Assert.Contains($"StackSize '{stackSize}'", error.Text);
            Assert.DoesNotContain("MicroTvmLink", run.TasksRun);
        }

        // The smallest accepted stack runs the runtime's printf, in decimal and in hex.
        foreach (var stackSize in new[] { "1024", "0x400" })
        {
            var run = project.Build("-t:Run", $"-p:StackSize={stackSize}", "-p:RunTimeout=20");
            Assert.True(run.Succeeded, run.ToString());
            Assert.Contains("| answer=42", run.Output);
        }
    }

    [Fact]
    public void RunTimeoutMustBeAWholeNumberOfSeconds()
    {
        var project = sdk.CreateProject("timeout", "", Projects.ThreeSources());

        foreach (var timeout in new[] { "-1", "abc", "1.5" })
        {
            var run = project.Build("-t:Run", $"-p:RunTimeout={timeout}");

            Assert.False(run.Succeeded);
            var error = Assert.Single(run.Errors);
            Assert.Equal("MTVM0111", error.Code);
            Assert.Equal(project.ProjectFile, error.File);
            Assert.Contains($"RunTimeout '{timeout}'", error.Text);
            Assert.DoesNotContain("MicroTvmCompileC", run.TasksRun);
        }
    }

    [Fact]
    public void BoardIsACatalogNameNeverAPath()
    {
        // A board.props outside the catalog, reached from the catalog folder by a relative Board "name".
        var project = sdk.CreateProject("pathboard", "", Projects.ThreeSources());
        project.WriteFile("evil.props", """
            <Project>
              <Import Project="$(MicroTvmBoardsDirectory)mps2-an500/board.props" />
              <Target Name="EvilBoardImported" AfterTargets="Build">
                <Message Importance="high" Text="evil board.props imported" />
              </Target>
            </Project>
            """);
        Directory.CreateDirectory(project.PathOf("evil"));
        File.Move(project.PathOf("evil.props"), project.PathOf("evil/board.props"));
        string boards = Path.Combine(sdk.PackagesDirectory, "microtvm.sdk", sdk.Version.ToLowerInvariant(), "boards");
        string board = Path.GetRelativePath(boards, project.PathOf("evil"));
        Assert.StartsWith("..", board);

        var build = project.Build($"-p:Board={board}");

        Assert.False(build.Succeeded);
        Assert.DoesNotContain("evil board.props imported", build.Output);
        var error = Assert.Single(build.Errors);
        Assert.Equal("MTVM0001", error.Code);
        Assert.Equal(project.ProjectFile, error.File);
        Assert.Contains("is not a board name", error.Text);
        Assert.Contains("mps2-an500", error.Text);
        Assert.Contains("nucleo-f746zg", error.Text);
        Assert.Contains("MicroTvmBoardDirectory", error.Text);
    }

    [Fact]
    public void ARelativeBoardDirectoryIsTheProjectsFolder()
    {
        // Used to skip board.props silently (the import resolved it against the SDK's folder) and fail in ld.
        var project = sdk.CreateProject("relboard", "<PropertyGroup><MicroTvmBoardDirectory>boards/mine</MicroTvmBoardDirectory></PropertyGroup>",
            new Dictionary<string, string>
            {
                ["main.c"] = "#include <stdio.h>\nint main(void) { printf(\"my board %d\\n\", MY_BOARD); return 0; }\n",
                ["boards/mine/board.props"] = """
                    <Project>
                      <Import Project="$(MicroTvmBoardsDirectory)mps2-an386/board.props" />
                      <ItemGroup>
                        <MicroTvmBoardDefine Include="MY_BOARD=386" />
                      </ItemGroup>
                    </Project>
                    """,
            });
        var missing = sdk.CreateProject("noboard", "<PropertyGroup><MicroTvmBoardDirectory>boards/none</MicroTvmBoardDirectory></PropertyGroup>", Projects.ThreeSources());

        var run = project.Build("-t:Run");
        var noBoard = missing.Build();

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| my board 386", run.Output);
        Assert.Contains("-mcpu=cortex-m4", File.ReadAllText(project.PathOf("obj/Debug/relboard.link.rsp")));
        var error = Assert.Single(noBoard.Errors);
        Assert.Equal("MTVM0001", error.Code);
        Assert.Contains(missing.PathOf("boards/none/board.props"), error.Text);
    }
}
