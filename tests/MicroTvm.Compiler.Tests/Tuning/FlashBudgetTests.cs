using MicroTvm.Compiler.Tests.Cli;
using MicroTvm.Compiler.Tuning;

namespace MicroTvm.Compiler.Tests.Tuning;

/// <summary>The tuner's choice under a flash budget (<see cref="FlashBudget"/>): the fastest set of one schedule per
/// signature whose weights fit, against hand-worked cases and a plain enumeration of every combination.</summary>
public sealed class FlashBudgetTests
{
    private static BudgetOption O(double cost, long bytes) => new(cost, bytes);

    [Fact]
    public void TheFastestSetThatFitsGivesUpTheLeastTimePerByte()
    {
        // Signature 0: widened 100 instructions / 200 B, compact 110 / 100 B. Signature 1: 1,000 / 300 B, 1,300 / 150 B.
        IReadOnlyList<IReadOnlyList<BudgetOption>> options = [[O(100, 200), O(110, 100)], [O(1000, 300), O(1300, 150)]];
        foreach (long limit in new[] { FlashBudget.ExhaustiveLimit, 0 })
        {
            Assert.Equal([0, 0], FlashBudget.Choose(options, [1, 1], 500, limit)!);
            Assert.Equal([1, 0], FlashBudget.Choose(options, [1, 1], 400, limit)!); // 10 instructions for 100 B, not 300 for 150 B
            Assert.Equal([1, 1], FlashBudget.Choose(options, [1, 1], 300, limit)!);
            Assert.Null(FlashBudget.Choose(options, [1, 1], 249, limit));
            // Uses count: signature 0 used 4 times saves 400 B for 40 instructions.
            Assert.Equal([1, 0], FlashBudget.Choose(options, [4, 1], 800, limit)!);
        }
    }

    [Fact]
    public void ExhaustiveSearchIsOptimalAndGreedyFitsOnRandomSpaces()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 300; trial++)
        {
            int signatures = random.Next(1, 6);
            var options = Enumerable.Range(0, signatures).Select(_ => (IReadOnlyList<BudgetOption>)Enumerable.Range(0, random.Next(1, 5))
                .Select(_ => O(random.Next(1, 1000), random.Next(0, 500))).ToList()).ToList();
            var uses = Enumerable.Range(0, signatures).Select(_ => random.Next(1, 4)).ToList();
            long budget = random.Next(0, 3000);

            // Every combination, plainly.
            double? optimum = null;
            var combination = new int[signatures];
            for (long n = 0; n < options.Aggregate(1L, (p, o) => p * o.Count); n++)
            {
                long rest = n;
                for (int t = 0; t < signatures; t++) { combination[t] = (int)(rest % options[t].Count); rest /= options[t].Count; }
                long bytes = combination.Select((i, t) => uses[t] * options[t][i].Bytes).Sum();
                double cost = combination.Select((i, t) => uses[t] * options[t][i].Cost).Sum();
                if (bytes <= budget && (optimum is null || cost < optimum)) optimum = cost;
            }

            double Cost(int[] chosen) => chosen.Select((i, t) => uses[t] * options[t][i].Cost).Sum();
            long Bytes(int[] chosen) => chosen.Select((i, t) => uses[t] * options[t][i].Bytes).Sum();
            var exact = FlashBudget.Choose(options, uses, budget);
            var greedy = FlashBudget.Choose(options, uses, budget, exhaustiveLimit: 0);
            if (optimum is null)
            {
                Assert.Null(exact);
                Assert.Null(greedy);
                continue;
            }

            Assert.Equal(optimum.Value, Cost(exact!));
            Assert.True(Bytes(exact!) <= budget);
            Assert.True(Bytes(greedy!) <= budget);
            Assert.True(Cost(greedy!) >= optimum.Value);
        }
    }

    [Fact]
    public void TheApplicationsReservedFlashComesOffTheWeightsBudget()
    {
        // 160 KiB of flash; the application takes 40,000 B beside the weights.
        Assert.Equal(123_840, FlashBudget.WeightsBudget(null, 163_840, 40_000));
        Assert.Equal(100_000, FlashBudget.WeightsBudget(100_000, 163_840, 40_000)); // a smaller --weights-budget wins
        Assert.Equal(123_840, FlashBudget.WeightsBudget(150_000, 163_840, 40_000));
        Assert.Null(FlashBudget.WeightsBudget(null, 163_840, 0)); // nothing reserved: no budget (the link checks the fit)
        Assert.Null(FlashBudget.WeightsBudget(null, null, 40_000)); // flash unknown
        Assert.Equal(5_000, FlashBudget.WeightsBudget(5_000, null, 40_000));

        // The widened filters (200 B) fit 1,000 B of flash alone, not beside an application of 850 B: the compact ones (100 B) do.
        IReadOnlyList<IReadOnlyList<BudgetOption>> options = [[O(100, 200), O(110, 100)]];
        Assert.Equal([0], FlashBudget.Choose(options, [1], FlashBudget.WeightsBudget(null, 1_000, 0) ?? 1_000)!);
        Assert.Equal([1], FlashBudget.Choose(options, [1], FlashBudget.WeightsBudget(null, 1_000, 850)!.Value)!);
    }

    /// <summary>The tuner's summary line: a set chosen under a budget that left the defaults out takes more instructions
    /// than they would, and says so (the 160 KiB ic_resnet8 case of docs/tuning.md: 3.9 % more, once printed "-3.9% fewer").</summary>
    [Fact]
    public void TheSummarySaysMoreWhereTheDefaultsDoNotFit()
    {
        Assert.Equal("19.0% fewer", MicroTvm.Cli.Commands.TuneCommand.AgainstDefaults(810, 1_000));
        Assert.Equal("0.0% fewer", MicroTvm.Cli.Commands.TuneCommand.AgainstDefaults(1_000, 1_000));
        Assert.Equal("3.9% more: the defaults' weights exceed the flash budget", MicroTvm.Cli.Commands.TuneCommand.AgainstDefaults(1_039, 1_000));
    }

    [Fact]
    public void AReserveOfTheWholeFlashIsACodedErrorBeforeAnyTrial()
    {
        string board = Path.GetFullPath(Path.Combine(TestModels.Root, "..", "..", "templates", "firmware", "boards", "mps2-an500"));
        string output = Path.Combine(Path.GetTempPath(), $"reserve-{Guid.NewGuid():N}.json");
        var (exit, _, error) = CliRunner.Run("tune", TestModels.ModelPath("kws_dscnn"), "--board", "mps2-an500", "--board-directory", board,
            "--cpu", "cortex-m7", "-o", output, "--reserve-flash", (4 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotEqual(0, exit);
        Assert.Contains("error MTVM5050: --reserve-flash 4,194,304 B leaves no flash for the model's weights: mps2-an500 has 4,194,304 B", error);
        Assert.False(File.Exists(output));
    }

    /// <summary>--firmware-flash (what -t:Tune measures) with a .json that cannot be read or has no weightsBytes: a coded
    /// error naming the file, before any trial.</summary>
    [Fact]
    public void AFirmwareFlashWithoutTheModelsJsonIsACodedError()
    {
        string board = Path.GetFullPath(Path.Combine(TestModels.Root, "..", "..", "templates", "firmware", "boards", "mps2-an500"));
        string output = Path.Combine(Path.GetTempPath(), $"firmware-{Guid.NewGuid():N}.json");
        string metadata = Path.Combine(Path.GetTempPath(), $"firmware-{Guid.NewGuid():N}-model.json");
        File.WriteAllText(metadata, "{ \"name\": \"kws\" }");
        foreach (string json in new[] { metadata, metadata + ".missing" })
        {
            var (exit, _, error) = CliRunner.Run("tune", TestModels.ModelPath("kws_dscnn"), "--board", "mps2-an500", "--board-directory", board,
                "--cpu", "cortex-m7", "-o", output, "--firmware-flash", "90000", "--firmware-metadata", json);
            Assert.NotEqual(0, exit);
            Assert.Contains("error MTVM5060: --firmware-flash needs the model's .json of that build", error);
            Assert.Contains(Path.GetFileName(json), error);
            Assert.False(File.Exists(output));
        }
    }
}
