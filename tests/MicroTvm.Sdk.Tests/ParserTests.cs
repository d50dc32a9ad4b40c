using MicroTvm.Build.Tasks;

namespace MicroTvm.Sdk.Tests;

/// <summary>The parsers the tasks use on gcc's output, against text gcc 12 writes.</summary>
public sealed class ParserTests
{
    [Fact]
    public void DependencyFileGivesTheSourceAndHeadersOfTheFirstRuleOnly()
    {
        // gcc -MMD -MP: the rule, continued lines, then one phony rule per header.
        const string text = "obj/main.o: src/main.c src/common.h \\\n src/util.h\nsrc/common.h:\nsrc/util.h:\n";

        Assert.Equal(["src/main.c", "src/common.h", "src/util.h"], DependencyFile.ParsePrerequisites(text));
    }

    [Fact]
    public void DependencyFileUnescapesSpacesAndKeepsWindowsDrives()
    {
        const string text = "my\\ dir/a.o: C:/my\\ dir/main\\ file.c C:/inc/x.h\r\nC:/inc/x.h:\r\n";

        Assert.Equal(["C:/my dir/main file.c", "C:/inc/x.h"], DependencyFile.ParsePrerequisites(text));
    }

    [Fact]
    public void DependencyFileWithoutARuleIsEmpty()
    {
        Assert.Empty(DependencyFile.ParsePrerequisites(""));
        Assert.Empty(DependencyFile.ParsePrerequisites("garbage without colon"));
    }

    [Fact]
    public void GccDiagnosticsCarryKindFileLineColumnAndOption()
    {
        const string output = """
            src/a.c: In function 'f':
            src/a.c:3:12: error: 'x' undeclared (first use in this function)
            src/a.c:3:12: note: each undeclared identifier is reported only once for each function it appears in
            src/b.c:7:9: warning: unused variable 'y' [-Wunused-variable]
            src/c.c:1:10: fatal error: missing.h: No such file or directory
            compilation terminated.
            cc1: error: unrecognized command-line option '-mfoo'
            src/d.c:2:1: warning: treated as error [-Werror=return-type]
            """;

        var diagnostics = GccDiagnostics.Parse(output);

        Assert.Equal(5, diagnostics.Count);
        Assert.Equal((DiagnosticKind.Error, "src/a.c", 3, 12), (diagnostics[0].Kind, diagnostics[0].File, diagnostics[0].Line, diagnostics[0].Column));
        Assert.Contains("note:", diagnostics[0].Message);
        Assert.Equal((DiagnosticKind.Warning, "Wunused-variable", "unused variable 'y'"), (diagnostics[1].Kind, diagnostics[1].Option, diagnostics[1].Message));
        Assert.Equal((DiagnosticKind.Error, "src/c.c", 1), (diagnostics[2].Kind, diagnostics[2].File, diagnostics[2].Line));
        Assert.Null(diagnostics[3].File);
        Assert.Equal("Wreturn-type", diagnostics[4].Option);
    }

    [Fact]
    public void FlagsSplitOnSpacesAndGroupOnQuotes()
    {
        Assert.Equal(["-mcpu=cortex-m7", "-T/a b/x.ld", "-O2"], ProcessRunner.SplitFlags(" -mcpu=cortex-m7  \"-T/a b/x.ld\" -O2 "));
        Assert.Equal("plain \"with space\" \"quote\\\"d\" \"\"", ProcessRunner.JoinArguments(["plain", "with space", "quote\"d", ""]));
    }

    [Fact]
    public void BackslashQuoteInFlagsIsAQuoteAsInAShellButAFoldersTrailingBackslashStays()
    {
        // <CFlags>-DVER=\"1.0\" -DNAME="\"a b\""</CFlags>: what a shell would pass.
        Assert.Equal(["-DVER=\"1.0\"", "-DNAME=\"a b\"", "-O2"], ProcessRunner.SplitFlags("-DVER=\\\"1.0\\\" \"-DNAME=\\\"a b\\\"\" -O2"));
        // "-IC:\my dir\" (a Windows folder with its trailing backslash, quoted by a target) stays one argument.
        Assert.Equal(["-IC:\\my dir\\", "-O2"], ProcessRunner.SplitFlags("\"-IC:\\my dir\\\" -O2"));
        Assert.Equal(["-IC:\\a\\b"], ProcessRunner.SplitFlags("-IC:\\a\\b"));
    }
}
