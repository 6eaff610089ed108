/** A modal's question: its message, its detail and the one button that goes ahead. */
export interface ModalQuestion {
  message: string;
  detail: string;
  /** The button that goes ahead (anything else cancels). */
  action: string;
}
