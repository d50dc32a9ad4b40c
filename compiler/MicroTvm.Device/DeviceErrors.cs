namespace MicroTvm.Device;

/// <summary>Error codes of host-driven runs (MTVM41xx), each documented once in docs/errors.md.</summary>
public static class DeviceErrors
{
    /// <summary>The board provides no RPC byte transport (MicroTvmBoardRpcTransport is empty).</summary>
    public const string NoTransport = "MTVM4100";

    /// <summary>The device stopped answering: no valid response within the timeout after the retries, or the connection closed.</summary>
    public const string NoAnswer = "MTVM4101";

    /// <summary>The device rejected a call (bad argument, failed run, no profiling build).</summary>
    public const string CallFailed = "MTVM4102";

    /// <summary>The device is not a MicroTvm RPC server of this protocol version, or its model differs from the one given.</summary>
    public const string Handshake = "MTVM4103";

    /// <summary>The device's outputs differ from the reference evaluator's.</summary>
    public const string OutputMismatch = "MTVM4104";

    /// <summary>The emulator did not start, or exited while the host talked to it.</summary>
    public const string EmulatorFailed = "MTVM4105";

    /// <summary>The serial port cannot be opened.</summary>
    public const string SerialPort = "MTVM4106";

    /// <summary>The MicroTvm.Sdk to build the server firmware with was not found.</summary>
    public const string SdkNotFound = "MTVM4107";

    /// <summary>Building the server firmware failed.</summary>
    public const string BuildFailed = "MTVM4108";

    /// <summary>An input file's size differs from the model input's.</summary>
    public const string InputSize = "MTVM4109";

    /// <summary>The firmware does not know the TIME_MODEL call (built with an older SDK).</summary>
    public const string NoTimeCall = "MTVM4110";

    /// <summary>DWT cycles were asked of a firmware whose board has no cycle counter.</summary>
    public const string NoCycleCounter = "MTVM4111";
}
