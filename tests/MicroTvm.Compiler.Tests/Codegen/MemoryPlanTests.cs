using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Planning;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// Checks memory plans without trusting the planner: lifetimes are recomputed from the graph, placements are read
/// back from the generated JSON metadata, and any two workspace tensors live at the same time whose bytes
/// overlap must be a legitimate share — a RESHAPE-like alias, or an operator's output written over an input whose
/// last reader is that operator, at the same offset.
/// </summary>
public class MemoryPlanTests
{
    public static IEnumerable<object[]> Models() => TestModels.All();

    /// <summary>On the M7 (DSP kernels' scratch, 8-byte alignment) and the M55 (Helium's, 16 bytes).</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void NoTwoLiveTensorsOverlap(string modelName) => CheckPlans(modelName, "cortex-m7", "cortex-m55");

    /// <summary>The same on the host (portable kernels, 16-byte alignment) and the M0+ (4 bytes).</summary>
    [Trait("Speed", "Slow")] // eight compiles of each model: the fast layer checks two targets
    [Theory]
    [MemberData(nameof(Models))]
    public void NoTwoLiveTensorsOverlapOnTheHostAndTheM0Plus(string modelName) => CheckPlans(modelName, "host", "cortex-m0plus");

    private static void CheckPlans(string modelName, params string[] targets)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(modelName));
        foreach (var target in targets)
        {
            foreach (bool ioInWorkspace in new[] { false, true })
            {
                var options = new CompileOptions(target, modelName, IoInWorkspace: ioInWorkspace);
                var metadata = ModelMetadata.FromJson(ModelCompiler.Compile(graph, options).Files[modelName + ".json"]);
                Assert.Equal(ioInWorkspace, metadata.IoInWorkspace);
                CheckPlan(graph, metadata);
            }
        }
    }

    internal static void CheckPlan(Graph graph, ModelMetadata metadata)
    {
        var tensors = graph.Tensors.ToDictionary(t => t.Id);
        var step = graph.Nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        var producer = graph.Producers();
        int Produced(Tensor t) => producer.TryGetValue(t, out var n) ? step[n] : -1;
        // With the inputs and outputs in the workspace, the caller reads every graph output after the last step.
        var graphOutputs = graph.Outputs.ToHashSet();
        int LastUse(Tensor t) => metadata.IoInWorkspace && graphOutputs.Contains(t) ? graph.Nodes.Count
            : graph.Nodes.Where(n => n.Inputs.Contains(t)).Select(n => step[n]).DefaultIfEmpty(Produced(t)).Max();

        // Alias groups: RESHAPE/SQUEEZE/EXPAND_DIMS output and input are the same bytes.
        var group = graph.Tensors.ToDictionary(t => t, t => t);
        Tensor Find(Tensor t) => group[t] == t ? t : Find(group[t]);
        foreach (var n in graph.Nodes.Where(n => n.Kind == OpKind.Reshape || n.Kind == OpKind.Squeeze || n.Kind == OpKind.ExpandDims))
            group[Find(n.Output)] = Find(n.Input(0));

        var workspace = metadata.MemoryPlan.Where(p => p.Storage == "workspace").ToList();
        if (metadata.IoInWorkspace)
        {
            Assert.Equal(0, metadata.InputOutputBytes);
            Assert.All(metadata.MemoryPlan, p => Assert.Contains(p.Storage, new[] { "workspace", "state" }));
            // The header's accessors point at the planned bytes of each input and output.
            Assert.All(metadata.Inputs.Concat(metadata.Outputs), io =>
                Assert.Equal(metadata.MemoryPlan.Single(p => p.Tensor == io.Tensor).Offset, io.Offset));
        }
        else
        {
            Assert.All(metadata.Inputs.Concat(metadata.Outputs), io => Assert.Null(io.Offset));
        }

        Assert.All(workspace, p =>
        {
            Assert.NotNull(p.Offset);
            Assert.True(p.Offset >= 0 && p.Offset + p.Bytes <= metadata.WorkspaceBytes, $"t{p.Tensor} [{p.Offset}, +{p.Bytes}) is outside the {metadata.WorkspaceBytes}-byte workspace");
            Assert.True(p.Offset % metadata.WorkspaceAlignment == 0, $"t{p.Tensor} offset {p.Offset} is not aligned to {metadata.WorkspaceAlignment}");
            Assert.Equal(tensors[p.Tensor].ByteSize, p.Bytes);
        });

        // State (variable tensors): in the region at the start of the workspace, each tensor's bytes its own (overlapping
        // no other state tensor, no other tensor, no scratch), for the whole run and between runs.
        var state = metadata.MemoryPlan.Where(p => p.Storage == "state").ToList();
        Assert.Equal(graph.Tensors.Count(t => t.IsVariable && graph.Nodes.Any(n => n.Inputs.Contains(t))), state.Count(p => tensors[p.Tensor].IsVariable));
        Assert.All(state, p =>
        {
            Assert.True(p.Offset >= 0 && p.Offset + p.Bytes <= metadata.StateBytes && p.Offset % metadata.WorkspaceAlignment == 0,
                $"state t{p.Tensor} [{p.Offset}, +{p.Bytes}) is outside the {metadata.StateBytes}-byte state region or unaligned");
            Assert.All(state.Where(q => q.Tensor != p.Tensor && q.Offset != p.Offset), q =>
                Assert.False(p.Offset < q.Offset + q.Bytes && q.Offset < p.Offset + p.Bytes, $"state t{p.Tensor} and t{q.Tensor} overlap"));
        });
        Assert.All(workspace, p => Assert.True(p.Offset >= metadata.StateBytes, $"t{p.Tensor} at {p.Offset} is inside the state region"));
        Assert.All(metadata.Operators.Where(o => o.ScratchOffset is not null), o => Assert.True(o.ScratchOffset >= metadata.StateBytes));

        (int First, int Last) GroupLifetime(Tensor root)
        {
            var members = graph.Tensors.Where(t => !t.IsConstant && Find(t) == root).ToList();
            return (members.Min(Produced), members.Max(LastUse));
        }

        for (int i = 0; i < workspace.Count; i++)
        {
            for (int j = i + 1; j < workspace.Count; j++)
            {
                var a = workspace[i];
                var b = workspace[j];
                bool bytesOverlap = a.Offset < b.Offset + b.Bytes && b.Offset < a.Offset + a.Bytes;
                if (!bytesOverlap) continue;
                var ta = tensors[a.Tensor];
                var tb = tensors[b.Tensor];
                var ra = Find(ta);
                var rb = Find(tb);
                if (ra == rb)
                {
                    Assert.True(a.Offset == b.Offset, $"aliases t{a.Tensor} and t{b.Tensor} must start at the same offset");
                    continue;
                }

                var la = GroupLifetime(ra);
                var lb = GroupLifetime(rb);
                bool live = la.First <= lb.Last && lb.First <= la.Last;
                if (!live) continue;

                // Allowed only as an in-place write: the later group starts at the step where the earlier one ends,
                // the operator at that step reads the earlier group and writes the later one, at the same offset.
                var (early, late, lEarly, lLate) = la.First <= lb.First ? (ra, rb, la, lb) : (rb, ra, lb, la);
                bool inPlace = lEarly.Last == lLate.First && lLate.First >= 0 && a.Offset == b.Offset &&
                    graph.Nodes[lLate.First].Inputs.Any(t => t is not null && !t.IsConstant && Find(t) == early) &&
                    graph.Nodes[lLate.First].Outputs.Any(t => Find(t) == late);
                Assert.True(inPlace,
                    $"t{a.Tensor} [{a.Offset}, +{a.Bytes}) steps {la.First}..{la.Last} and t{b.Tensor} [{b.Offset}, +{b.Bytes}) steps {lb.First}..{lb.Last} overlap while both are live");
            }
        }

        // Kernel scratch: inside the workspace, aligned, overlapping no tensor live at its operator's step; the JSON's
        // figures agree with the operators'.
        foreach (var op in metadata.Operators.Where(o => o.ScratchBytes is not null))
        {
            Assert.NotNull(op.ScratchOffset);
            long offset = op.ScratchOffset!.Value, bytes = op.ScratchBytes!.Value;
            Assert.True(offset >= 0 && offset + bytes <= metadata.WorkspaceBytes && offset % metadata.WorkspaceAlignment == 0,
                $"operator {op.Index}'s scratch [{offset}, +{bytes}) is outside the workspace or unaligned");
            foreach (var p in workspace)
            {
                var life = GroupLifetime(Find(tensors[p.Tensor]));
                bool live = life.First <= op.Step && op.Step <= life.Last;
                bool overlap = offset < p.Offset + p.Bytes && p.Offset < offset + bytes;
                Assert.False(live && overlap, $"operator {op.Index}'s scratch [{offset}, +{bytes}) overlaps live t{p.Tensor} [{p.Offset}, +{p.Bytes})");
            }
        }

        Assert.Equal(metadata.Operators.Select(o => o.ScratchBytes ?? 0).DefaultIfEmpty(0).Max(), metadata.ScratchBytes);
        long alignedScratch = (metadata.ScratchBytes + metadata.WorkspaceAlignment - 1) / metadata.WorkspaceAlignment * metadata.WorkspaceAlignment;
        Assert.InRange(metadata.WorkspaceBytes - metadata.WorkspaceWithoutScratchBytes, 0, alignedScratch);

        // The plan must fit the workspace and cannot beat the bound (sanity of the reported figures).
        Assert.True(metadata.WorkspaceBytes >= metadata.WorkspaceLowerBoundBytes);
        Assert.True(metadata.WorkspaceBytes <= metadata.GreedyBySizeBytes);
    }

    [Fact]
    public void PackerNeverOverlapsAndNeverLosesToGreedyBySize() => PackRandomProblems(40);

    /// <summary>300 problems of the same sequence (the fast test above runs its first 40).</summary>
    [Trait("Speed", "Slow")] // a fuzz loop: the fast layer runs its first 40 problems
    [Fact]
    public void PackerNeverOverlapsAndNeverLosesToGreedyBySizeOnMoreProblems() => PackRandomProblems(300);

    private static void PackRandomProblems(int problems)
    {
        var random = new Random(4);
        for (int problem = 0; problem < problems; problem++)
        {
            int count = random.Next(1, 40);
            var requests = Enumerable.Range(0, count).Select(id =>
            {
                int first = random.Next(0, 30);
                return new BufferRequest(id, random.Next(1, 5000), first, first + random.Next(0, 8));
            }).ToList();
            int alignment = new[] { 1, 4, 8, 16 }[random.Next(4)];
            var result = BufferPacker.Pack(requests, alignment);
            Assert.True(result.TotalBytes >= result.LowerBoundBytes);
            Assert.True(result.TotalBytes <= result.GreedyBySizeBytes);
            foreach (var r in requests)
            {
                long offset = result.Offsets[r.Id];
                Assert.True(offset % alignment == 0);
                Assert.True(offset + r.Bytes <= result.TotalBytes);
                foreach (var s in requests.Where(s => s.Id > r.Id && s.OverlapsInTime(r)))
                {
                    long o2 = result.Offsets[s.Id];
                    Assert.False(offset < o2 + s.Bytes && o2 < offset + r.Bytes, $"problem {problem}: buffers {r.Id} and {s.Id} overlap");
                }
            }
        }
    }

    [Fact]
    public void PackerHonoursEachBuffersOwnAlignment() => PackRandomlyAlignedProblems(30);

    /// <summary>200 problems of the same sequence (the fast test above runs its first 30).</summary>
    [Trait("Speed", "Slow")] // a fuzz loop: the fast layer runs its first 30 problems
    [Fact]
    public void PackerHonoursEachBuffersOwnAlignmentOnMoreProblems() => PackRandomlyAlignedProblems(200);

    private static void PackRandomlyAlignedProblems(int problems)
    {
        var random = new Random(11);
        for (int problem = 0; problem < problems; problem++)
        {
            var requests = Enumerable.Range(0, random.Next(1, 30)).Select(id =>
            {
                int first = random.Next(0, 20);
                return new BufferRequest(id, random.Next(1, 300), first, first + random.Next(0, 5), new[] { 1, 4, 8, 16 }[random.Next(4)]);
            }).ToList();
            var result = BufferPacker.Pack(requests, 4);
            foreach (var r in requests)
            {
                long offset = result.Offsets[r.Id];
                Assert.True(offset % Math.Max(4, r.Alignment) == 0, $"problem {problem}: buffer {r.Id} at {offset}, alignment {r.Alignment}");
                foreach (var s in requests.Where(s => s.Id > r.Id && s.OverlapsInTime(r)))
                {
                    long o2 = result.Offsets[s.Id];
                    Assert.False(offset < o2 + s.Bytes && o2 < offset + r.Bytes, $"problem {problem}: buffers {r.Id} and {s.Id} overlap");
                }
            }
        }
    }

    /// <summary>16x8 depthwise accumulates in int64 scratch: on the 4-byte-aligned M0+/M4 the workspace becomes
    /// 8-byte aligned and the scratch sits at a multiple of 8 (an int64_t* at 4 mod 8 is undefined C); int8 keeps 4.</summary>
    [Theory]
    [InlineData("cortex-m0plus")]
    [InlineData("cortex-m4")]
    public void Int64ScratchIsAlignedTo8Bytes(string target)
    {
        var random = new RandomGraphs(13);
        int withScratch = 0;
        for (int k = 0; k < 40; k++)
        {
            var graph = random.Convolution(ElementType.Int16, depthwise: true).Graph;
            var metadata = ModelCompiler.Compile(graph, new CompileOptions(target, "dw")).Metadata;
            var scratch = metadata.Operators.Where(o => o.ScratchOffset is not null).ToList();
            if (scratch.Count == 0) continue;
            withScratch++;
            Assert.Equal(8, metadata.WorkspaceAlignment);
            Assert.All(scratch, o => Assert.True(o.ScratchOffset % 8 == 0, $"scratch at {o.ScratchOffset}"));
        }
        Assert.True(withScratch > 10, $"only {withScratch} graphs had scratch");

        var int8 = random.Convolution(ElementType.Int8, depthwise: true).Graph;
        Assert.Equal(4, ModelCompiler.Compile(int8, new CompileOptions(target, "dw")).Metadata.WorkspaceAlignment);
    }

    /// <summary>A kernel's scratch wish is granted as the bytes it uses (Kernel.ScratchUsed): the compact DSP convolutions
    /// of ic_resnet8 widen blocks of filter rows (<c>wide = scratch + columns</c>, blocks of pairs times words per pair)
    /// and the JSON's scratchBytes is exactly that; a grant a few words larger than a wish is kept as the wish.</summary>
    [Fact]
    public void AGrantedScratchIsWhatTheKernelUses()
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath("ic_resnet8"));
        var model = ModelCompiler.Compile(graph, new CompileOptions("cortex-m7", "ic", WeightLayout: MicroTvm.Compiler.Tuning.WeightLayout.Size));
        string source = model.Files[model.SourceFile];
        int widened = 0;
        foreach (var op in model.Metadata.Operators.Where(o => o.Function is not null))
        {
            var body = source[source.IndexOf($" {op.Function}(", StringComparison.Ordinal)..];
            body = body[..body.IndexOf("\n}\n", StringComparison.Ordinal)];
            var wide = System.Text.RegularExpressions.Regex.Match(body, @"\(int32_t\*\)scratch \+ (\d+); /\* (\d+) pairs of filter rows widened to int16 pairs \((\d+) words each");
            if (!wide.Success) continue;
            widened++;
            long used = 4L * (long.Parse(wide.Groups[1].Value) + long.Parse(wide.Groups[2].Value) * long.Parse(wide.Groups[3].Value));
            Assert.Equal(used, op.ScratchBytes);
        }

        Assert.True(widened >= 4, $"only {widened} operators widened their filter rows");
        var kernels = KernelSelection.Choose(graph, Targets.Find("cortex-m7"), layout: MicroTvm.Compiler.Tuning.WeightLayout.Size);
        var node = graph.Nodes.First(n => kernels[n].ScratchWishes(n).Count > 0);
        long wish = kernels[node].ScratchWishes(node)[0];
        kernels.Grant(node, wish + 12);
        Assert.Equal(wish, kernels.ScratchBytes(node));
    }

    [Fact]
    public void PackerBeatsGreedyBySizeOnSomeProblems()
    {
        // Chains of activations like a network's: greedy-by-size is often optimal, but not always.
        var random = new Random(7);
        int better = 0, problems = 200;
        for (int problem = 0; problem < problems; problem++)
        {
            var requests = Enumerable.Range(0, 12).Select(id =>
            {
                int first = random.Next(0, 10);
                return new BufferRequest(id, 16 * random.Next(1, 64), first, first + random.Next(1, 3));
            }).ToList();
            var result = BufferPacker.Pack(requests, 16);
            if (result.TotalBytes < result.GreedyBySizeBytes) better++;
        }

        Assert.True(better > 0, "the packer never beat greedy-by-size");
    }

    [Fact]
    public void ReshapeSharesItsInputsBytes()
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath("kws_dscnn"));
        var metadata = ModelMetadata.FromJson(ModelCompiler.Compile(graph, new CompileOptions("host", "kws")).Files["kws.json"]);
        var reshape = graph.Nodes.Single(n => n.Kind == OpKind.Reshape);
        var input = metadata.MemoryPlan.Single(p => p.Tensor == reshape.Input(0).Id);
        var output = metadata.MemoryPlan.Single(p => p.Tensor == reshape.Output.Id);
        Assert.Equal(input.Offset, output.Offset);
        Assert.Null(metadata.Operators.Single(o => o.Index == reshape.Index).Function);
    }
}
