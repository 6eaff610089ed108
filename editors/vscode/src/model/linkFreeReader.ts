/**
 * The daemon's window/showMessage and window/showMessageRequest without links. vscode-languageclient
 * shows them itself, through vscode.window's own calls (src/messages.ts never sees them), and
 * they quote the workspace's devfactory.toml: `logLevel = "[Fix](command:...)"` comes back as
 * "Invalid enum value '[Fix](command:...)'", a link that runs any command with any arguments. So
 * the text is made safe as each message arrives, before the client reads it.
 */
import {
  AbstractMessageReader,
  type DataCallback,
  type Disposable,
  Message,
  type MessageReader,
  ShowMessageNotification,
  ShowMessageRequest,
} from 'vscode-languageserver-protocol';
import { noLinks } from './untrusted';

const SHOWN = new Set<string>([ShowMessageNotification.method, ShowMessageRequest.method]);

/** `message` with the text of a message the editor shows taken out of link syntax. */
export function withoutLinks(message: Message): Message {
  if (!(Message.isNotification(message) || Message.isRequest(message)) || !SHOWN.has(message.method)) return message;
  const params = message.params as { message?: unknown } | undefined;
  if (typeof params?.message !== 'string') return message;
  return { ...message, params: { ...params, message: noLinks(params.message) } } as Message;
}

/** A reader that hands on what `reader` reads, through withoutLinks. */
export class LinkFreeReader extends AbstractMessageReader {
  constructor(private readonly reader: MessageReader) {
    super();
    reader.onError((error) => this.fireError(error));
    reader.onClose(() => this.fireClose());
    reader.onPartialMessage((info) => this.firePartialMessage(info));
  }

  listen(callback: DataCallback): Disposable {
    return this.reader.listen((message) => callback(withoutLinks(message)));
  }

  dispose(): void {
    super.dispose();
    this.reader.dispose();
  }
}
