using MicroTvm.Sdk.Tests.Infrastructure;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>A project whose models fail in several places reports every failing operator of every model in one
/// build, in both compiler hosts, each error naming its model file and operator.</summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // dotnet build: not in eng/test.sh --fast
public sealed class ModelErrorTests(SdkPackageFixture sdk)
{
    [Fact]
    public void EveryFailingOperatorOfEveryModelIsReportedInOneBuild()
    {
        var project = sdk.CreateProject("twobad", """
              <ItemGroup>
                <MicroModel Include="a.tflite" />
                <MicroModel Include="b.tflite" />
              </ItemGroup>
            """, Projects.SingleMain("int main(void) { return 0; }\n"));
        File.WriteAllBytes(project.PathOf("a.tflite"), Int8Chain(null, "VendorA", null, "VendorB"));
        File.WriteAllBytes(project.PathOf("b.tflite"), Int8Chain("VendorC"));

        foreach (var arguments in new[] { Array.Empty<string>(), ["-p:MicroTvmModelCompiler=Cli"] })
        {
            var failed = project.Build(arguments);
            Assert.False(failed.Succeeded);
            var errors = failed.Errors.Select(e => (e.Code, File: Path.GetFileName(e.File), e.Text)).OrderBy(e => e.File).ThenBy(e => e.Text).ToList();
            Assert.True(errors.Count == 3, string.Join("\n", errors) + "\n" + failed.Output);
            Assert.All(errors, e => Assert.Equal("MTVM1004", e.Code));
            Assert.Equal(["a.tflite", "a.tflite", "b.tflite"], errors.Select(e => e.File));
            Assert.Contains("operator 1 (custom operator 'VendorA')", errors[0].Text);
            Assert.Contains("operator 3 (custom operator 'VendorB')", errors[1].Text);
            Assert.Contains("operator 0 (custom operator 'VendorC')", errors[2].Text);
        }
    }
}
