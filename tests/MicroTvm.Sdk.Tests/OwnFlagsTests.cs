using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>A source's own flags (<c>AdditionalOptions</c> metadata, as the SDK gives generated model sources
/// <c>-ffp-contract=off</c>): they reach gcc and compile_commands.json for that source alone, and changing them
/// recompiles that source alone.</summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // dotnet build: not in eng/test.sh --fast
public sealed class OwnFlagsTests(SdkPackageFixture sdk)
{
    [Fact]
    public void OneSourcesFlagsReachGccAndRecompileOnlyIt()
    {
        var project = sdk.CreateProject("ownflags", "", Projects.ThreeSources());
        var first = project.Build();
        Assert.True(first.Succeeded, first.ToString());

        // other.c fails to compile unless its own flag defines OTHER_FLAG: the flag really reaches gcc.
        project.WriteFile("src/other.c", "#ifndef OTHER_FLAG\n#error OTHER_FLAG missing\n#endif\nint other_value(void) { return OTHER_FLAG; }\n");
        string plain = File.ReadAllText(project.ProjectFile);
        project.WriteFile("ownflags.csproj", plain.Replace("</Project>", """
              <ItemGroup>
                <Compile Update="src/other.c" AdditionalOptions="-DOTHER_FLAG=7" />
              </ItemGroup>
            </Project>
            """));
        var flagged = project.Build();
        Assert.True(flagged.Succeeded, flagged.ToString());
        Assert.Equal(["src/other.c"], flagged.CompiledSources);
        string database = File.ReadAllText(project.PathOf("obj/Debug/compile_commands.json"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(database, "-DOTHER_FLAG=7"));

        var noOp = project.Build();
        Assert.True(noOp.Succeeded, noOp.ToString());
        Assert.Empty(noOp.CompiledSources);

        // Another value: other.c alone again.
        project.WriteFile("ownflags.csproj", File.ReadAllText(project.ProjectFile).Replace("-DOTHER_FLAG=7", "-DOTHER_FLAG=8"));
        var changed = project.Build();
        Assert.True(changed.Succeeded, changed.ToString());
        Assert.Equal(["src/other.c"], changed.CompiledSources);
    }
}
