using Clearhouse.Core.Engine;

namespace Clearhouse.Server.Sequencing;

/// <summary>
/// Sees every command the sequencer applies, on the thread that holds the engine (the engine thread,
/// or a request thread that applies inline: one at a time, in sequence order), right after
/// <see cref="Engine.Apply"/> and before anyone is answered: the stamped command, the outcome and
/// the engine's events (valid only during the call: copy what you keep). Used by the API gateway to
/// keep order histories and feed market data. It must be quick (every command waits for it), must
/// only read the engine, and must not throw (a throw is logged and the command stands).
/// </summary>
public interface ICommandObserver
{
    void OnApplied(Command command, RejectReason reason, ReadOnlySpan<EngineEvent> events, Engine engine);
}
