using System.Globalization;
using System.Xml.Linq;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The memory-plan picture (&lt;name&gt;.plan.svg) read back as XML: one box per workspace tensor and per operator's scratch,
/// whose figures and geometry are those of the JSON plan (offset → y, bytes → height, live steps → x and width).
/// </summary>
public class MemoryPlanPictureTests
{
    [Theory]
    [InlineData("kws_dscnn", "cortex-m7", false)]
    [InlineData("keyword_scrambled_8bit", "cortex-m4", false)]
    [InlineData("trained_lstm_int8", "cortex-m7", true)]
    public void EveryWorkspaceTensorIsABoxAtItsOffsetOverItsLiveSteps(string modelName, string target, bool ioInWorkspace)
    {
        var generated = ModelCompiler.Compile(TfliteImporter.Load(TestModels.ModelPath(modelName)), new CompileOptions(target, modelName, IoInWorkspace: ioInWorkspace));
        var plan = ModelMetadata.FromJson(generated.Files[generated.MetadataFile]);
        var svg = XDocument.Parse(generated.Files[generated.PlanPictureFile]);
        XNamespace ns = "http://www.w3.org/2000/svg";
        var rects = svg.Descendants(ns + "rect").ToList();
        var frame = rects.First(r => r.Attribute("class") is null);
        double top = D(frame, "y"), height = D(frame, "height"), left = D(frame, "x");
        double stepWidth = D(frame, "width") / plan.Operators.Count;

        var tensors = plan.MemoryPlan.Where(t => t.Offset is not null && t.Bytes > 0).ToList();
        var boxes = rects.Where(r => (string?)r.Attribute("class") == "tensor").ToDictionary(r => (int)r.Attribute("data-tensor")!);
        Assert.Equal(tensors.Select(t => t.Tensor).Order(), boxes.Keys.Order());
        Assert.NotEmpty(tensors);
        foreach (var tensor in tensors)
        {
            var box = boxes[tensor.Tensor];
            Assert.Equal(tensor.Offset, (long)box.Attribute("data-offset")!);
            Assert.Equal(tensor.Bytes, (long)box.Attribute("data-bytes")!);
            Close(top + height * tensor.Offset!.Value / plan.WorkspaceBytes, D(box, "y"));
            Close(Math.Max(0.5, height * tensor.Bytes / plan.WorkspaceBytes), D(box, "height"));
            int first = Math.Max(0, tensor.FirstStep), last = tensor.LastStep ?? plan.Operators.Count - 1;
            Close(left + stepWidth * first, D(box, "x"));
            Close(stepWidth * (last - first + 1), D(box, "width"));
            Assert.InRange(tensor.Offset.Value + tensor.Bytes, 1, plan.WorkspaceBytes);
            Assert.Equal(tensor.Storage, (string?)box.Attribute("data-storage"));
        }

        var scratch = rects.Where(r => (string?)r.Attribute("class") == "scratch").ToList();
        Assert.Equal(plan.Operators.Count(o => o.ScratchBytes > 0), scratch.Count);
        Assert.Contains("workspace " + plan.WorkspaceBytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes", svg.Root!.Element(ns + "title")!.Value);
        if (modelName == "keyword_scrambled_8bit") Assert.Contains(boxes.Values, b => (string?)b.Attribute("data-storage") == "state");
    }

    [Fact]
    public void TensorNamesFromTheModelAreEscaped()
    {
        var generated = ModelCompiler.Compile(TfliteImporter.Load(TestModels.ModelPath("hello_world_int8")), new CompileOptions("host", "hello"));
        var plan = ModelMetadata.FromJson(generated.Files[generated.MetadataFile]);
        const string hostile = "</title><script>x</script>&'\"\u0001";
        plan = plan with { MemoryPlan = plan.MemoryPlan.Select(t => t with { Name = hostile + t.Name }).ToList() };
        var svg = XDocument.Parse(MemoryPlanPicture.Render(plan)); // well-formed
        Assert.DoesNotContain(svg.Descendants(), e => e.Name.LocalName == "script");
        Assert.Contains(svg.Descendants().Select(e => e.Value), v => v.Contains("</title><script>x</script>&'\"?", StringComparison.Ordinal));
    }

    /// <summary>The picture writes coordinates with two decimals.</summary>
    private static void Close(double expected, double actual) => Assert.InRange(actual, expected - 0.006, expected + 0.006);

    private static double D(XElement e, string attribute) => double.Parse((string)e.Attribute(attribute)!, CultureInfo.InvariantCulture);
}
