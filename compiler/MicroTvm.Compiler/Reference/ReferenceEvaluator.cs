using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// Runs a graph on the host with the arithmetic of TensorFlow Lite Micro's reference kernels: bit-exact for int8 and
/// int16 tensors, IEEE single precision in the same operation order for float32. Plain loops, clarity over speed;
/// this is the oracle the generated C is tested against.
/// </summary>
public static class ReferenceEvaluator
{
    /// <summary>
    /// Evaluates <paramref name="graph"/> with one little-endian, row-major byte array per graph input (in
    /// <see cref="Graph.Inputs"/> order) and returns the value of every tensor, constants included (variable tensors:
    /// their value after the run). The run starts from <paramref name="state"/> and leaves the updated state in it, as
    /// the generated code does with the state in its workspace; without one it starts from the initial state, as
    /// TFLM's interpreter after <c>Reset()</c>.
    /// </summary>
    public static IReadOnlyDictionary<Tensor, byte[]> Run(Graph graph, IReadOnlyList<byte[]> inputs, ModelState? state = null)
    {
        state ??= new ModelState(graph);
        if (inputs.Count != graph.Inputs.Count)
            throw new CompilerException(ErrorCodes.InvalidInputData, $"the graph has {graph.Inputs.Count} input(s) but {inputs.Count} were given") { File = graph.SourcePath };

        var values = new TensorValues();
        foreach (var tensor in graph.Tensors)
            if (tensor.Data is not null) values.SetBytes(tensor, tensor.Data);

        for (int i = 0; i < inputs.Count; i++)
        {
            var tensor = graph.Inputs[i];
            if (inputs[i].LongLength != tensor.ByteSize)
                throw new CompilerException(ErrorCodes.InvalidInputData, $"input {i} ({tensor}) needs {tensor.ByteSize} bytes but {inputs[i].LongLength} were given") { File = graph.SourcePath };
            values.SetBytes(tensor, (byte[])inputs[i].Clone());
        }

        foreach (var (tensor, bytes) in state.Values)
            values.SetBytes(tensor, (byte[])bytes.Clone());

        foreach (var node in graph.Nodes)
        {
            try
            {
                AccumulatorBound.Check(node);
                node.Kind.Evaluate(node, values);
            }
            catch (CompilerException e) when (e.OperatorIndex is null)
            {
                throw e.ForOperator(node, graph.SourcePath);
            }
            catch (CompilerException e)
            {
                throw graph.SourcePath is null ? e : e.WithFile(graph.SourcePath);
            }
            catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidOperationException
                                          or OverflowException or KeyNotFoundException or DivideByZeroException)
            {
                // Only a graph whose operand shapes contradict its attributes gets here (the importer rejects those).
                throw new CompilerException(ErrorCodes.InvalidOperator, $"{node}: operands do not fit the operator's attributes ({e.Message})", e)
                {
                    File = graph.SourcePath,
                    OperatorIndex = node.Index,
                    OperatorName = node.Kind.Name,
                };
            }
        }

        foreach (var tensor in state.Values.Keys.ToList())
            state.Set(tensor, values.Bytes(tensor));
        return values.All;
    }
}

/// <summary>The values of a graph's variable (state) tensors between runs of the reference evaluator.</summary>
public sealed class ModelState
{
    private readonly Dictionary<Tensor, byte[]> _values = new();

    /// <summary>The initial state of <paramref name="graph"/>'s variable tensors.</summary>
    public ModelState(Graph graph)
    {
        foreach (var tensor in graph.Tensors.Where(t => t.IsVariable)) _values[tensor] = Array.Empty<byte>();
        Reset();
    }

    /// <summary>Each variable tensor's bytes, little-endian, row-major.</summary>
    public IReadOnlyDictionary<Tensor, byte[]> Values => _values;

    /// <summary>Back to the initial state, as TFLM's <c>Reset()</c> and the generated <c>&lt;name&gt;_reset</c>: every byte
    /// of an int8 variable is its zero point, of any other variable 0.</summary>
    public void Reset()
    {
        foreach (var tensor in _values.Keys.ToList())
        {
            var bytes = new byte[tensor.ByteSize];
            Array.Fill(bytes, tensor.InitialByte);
            _values[tensor] = bytes;
        }
    }

    internal void Set(Tensor tensor, byte[] bytes) => _values[tensor] = (byte[])bytes.Clone();
}
