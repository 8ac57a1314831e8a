// 投诉建议 (issue 16 item 9; cunji_core::domain::feedback): the page's words, kept beside its
// components as local vue-i18n messages (the page's language follows the global one), and
// the labels of its two code lists, as the core labels them.

export const CATEGORIES = ['complaint', 'suggestion', 'app_problem'] as const

const LABELS: Record<string, Record<string, [string, string]>> = {
  feedback_category: {
    complaint: ['投诉', 'Complaint'],
    suggestion: ['建议', 'Suggestion'],
    app_problem: ['系统问题', 'Problem with the app'],
  },
  feedback_status: {
    submitted: ['待答复', 'Awaiting an answer'],
    answered: ['已答复', 'Answered'],
  },
}

/** A code's label in the page's language; an unknown code is shown as it is. */
export function feedbackLabel(list: string, code: unknown, locale: string): string {
  if (typeof code !== 'string' || !code) return '—'
  const l = LABELS[list]?.[code]
  return l ? l[locale === 'en' ? 1 : 0] : code
}

export const feedbackMessages = {
  'zh-CN': {
    fb: {
      nav: '投诉建议',
      heading: '投诉建议',
      intro:
        '对工作、干部或村记系统有投诉或建议，可在这里提交。只有你本人、你所在县的县扶贫办和系统管理员能看到，乡镇、第一书记和其他干部看不到。县扶贫办会在这里答复。',
      category: '类别',
      subject: '标题',
      subjectHint: '一句话说明，最多60字',
      text: '内容',
      about: '涉及事项（选填）',
      aboutHint: '例如：请假审批、某村；不用写身份证号等个人信息',
      required: '（必填）',
      next: '下一步：核对',
      preparing: '正在核对…',
      confirmLead: '将要提交：',
      confirmHint: '确认无误后，本浏览器用你登录时生成的密钥签名并提交。',
      sign: '确认并提交',
      signing: '正在签名提交…',
      cancel: '取消',
      submitted: '已提交：{summary}。县扶贫办答复后会显示在下方。',
      chooseCategory: '请选择类别',
      needSubject: '请填写标题',
      needText: '请填写内容',
      mine: '我提交的投诉建议',
      none: '还没有提交过投诉建议',
      loading: '正在读取…',
      refresh: '刷新',
      noKey: '这个浏览器没有本次登录的签名密钥，不能提交。请退出后重新登录。',
      fact: {
        category: '类别',
        subject: '标题',
        text: '内容',
        about: '涉及事项',
        author: '提交人',
        submitted: '提交时间',
        status: '状态',
        answer: '答复',
        answeredBy: '答复人',
        answeredAt: '答复时间',
      },
      answer: '答复',
      answerField: '答复内容 *',
      needAnswer: '请填写答复内容',
      answerHint: '答复提交后不能修改，提交人会在手机和网页上看到。',
      history: '修改记录',
    },
  },
  en: {
    fb: {
      nav: 'Feedback',
      heading: 'Feedback and complaints',
      intro:
        'Complaints or suggestions about the work, a cadre or the app go here. Only you, your county’s poverty office and the administrator read them: not the township, your first secretary or other cadres. The county office answers here.',
      category: 'Category',
      subject: 'Subject',
      subjectHint: 'One line, at most 60 characters',
      text: 'What you want to say',
      about: 'About (optional)',
      aboutHint: 'e.g. leave approvals, a village; no ID numbers or other personal data',
      required: ' (required)',
      next: 'Next: check',
      preparing: 'Checking…',
      confirmLead: 'About to submit: ',
      confirmHint:
        'Once you confirm, this browser signs it with the key made at sign-in and sends it.',
      sign: 'Confirm and submit',
      signing: 'Signing and sending…',
      cancel: 'Cancel',
      submitted: 'Submitted: {summary}. The county office’s answer will show below.',
      chooseCategory: 'Choose a category',
      needSubject: 'Write a subject',
      needText: 'Write what you want to say',
      mine: 'Your feedback',
      none: 'You have not submitted any feedback yet',
      loading: 'Loading…',
      refresh: 'Refresh',
      noKey: 'This browser holds no signing key for this sign-in: sign out and in again to submit.',
      fact: {
        category: 'Category',
        subject: 'Subject',
        text: 'Text',
        about: 'About',
        author: 'From',
        submitted: 'Submitted',
        status: 'Status',
        answer: 'Answer',
        answeredBy: 'Answered by',
        answeredAt: 'Answered',
      },
      answer: 'Answer',
      answerField: 'Answer *',
      needAnswer: 'Write the answer',
      answerHint: 'An answer is final once sent; its author sees it on the phone and here.',
      history: 'History',
    },
  },
}
