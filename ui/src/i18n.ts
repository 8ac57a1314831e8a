// Screen texts, Chinese first. Code-list labels (visit modes, day statuses…) are not here:
// they come from the core with the code lists (api.codeLists), in both languages. Vant's own
// texts (a dialog's buttons, a calendar's weekdays) follow the same language: its locale is
// switched whenever vue-i18n's is.
import { watch } from 'vue'
import { createI18n } from 'vue-i18n'
import { Locale as VantLocale } from 'vant'
import vantEnUS from 'vant/es/locale/lang/en-US'
import vantZhCN from 'vant/es/locale/lang/zh-CN'

export const messages = {
  'zh-CN': {
    app: { name: '村记', lang: 'EN', online: '在线', offline: '离线' },
    common: {
      save: '保存', cancel: '取消', confirm: '确认', back: '返回', loading: '加载中…',
      saved: '已保存', required: '必填', none: '暂无', retry: '重试', yes: '是', no: '否',
      draftKept: '草稿已自动保存', days: '{n} 天', reason: '理由', date: '日期',
    },
    time: { days: '{n} 天', hours: '{n} 小时', minutes: '{n} 分钟' },
    pin: {
      chooseTitle: '设置PIN码', enterTitle: '输入PIN码', changeTitle: '修改PIN码',
      chooseHint: '本机记录用PIN码加密保存。请设置至少6位数字,并牢记:忘记后需重新登录下载。',
      enterHint: '输入PIN码打开本机记录。', pin: 'PIN码', new: '新PIN码', again: '再输一次', old: '原PIN码',
      unlock: '打开', change: '修改', opening: '正在打开…', unlocked: '已打开', changed: 'PIN码已修改',
      tooShort: 'PIN码至少6位', mismatch: '两次输入的PIN码不一致', menu: '修改PIN码',
    },
    login: {
      title: '登录并登记本机', server: '服务器地址', account: '账号', password: '密码',
      submit: '登录', hint: '首次使用需要联网登录一次,之后没有信号也能记录。',
      signingIn: '正在登录并下载本村数据…', welcome: '登录成功',
    },
    home: {
      title: '首页', today: '今天', checkedIn: '今日已打卡 {n} 次', notCheckedIn: '今日还未打卡',
      checkIn: '打卡', waiting: '待同步', lastSync: '上次同步', never: '从未同步',
      sync: '立即同步', syncing: '正在同步…', synced: '同步完成:上传 {pushed} 条,下载 {pulled} 条',
      leave: '请假/销假', worklog: '工作日志', households: '农户', mylog: '我的日志',
      conflicts: '待处理冲突', onLeave: '今天在假期中:{type}', logout: '退出登录',
      inside: '在村范围内', outside: '不在村范围内(仍然有效,供审核参考)',
      clockOff: '手机时间与服务器相差约{off}:打卡不计为在村。请在手机设置里开启“自动设置时间”后再打卡。',
    },
    sync: { pushing: '上传中 {sent}/{total}', pulling: '下载中 {received} 条', repairing: '修复 {records} 条记录', retrying: '网络不稳,第 {attempt} 次重试…' },
    checkin: {
      title: '打卡', locating: '正在获取位置…', accuracy: '精度约 {m} 米', noLocation: '无法获取位置:请到室外开阔处重试',
      tap: '点此打卡', done: '打卡成功', village: '村', noFence: '本机还没有本村范围,同步后可显示',
      note: '考勤是审核依据,不排名、不强制上传。',
      photoOptional: '拍照 (可选)', photoRequired: '拍照 (本县要求)', photoRetake: '重拍',
      photoTaken: '已拍照', photoSaving: '正在保存照片…',
      photoNeeded: '本县要求打卡时拍照:请先点上面的“拍照”,再打卡。',
      photoNote: '照片只保存在本机,只同步照片的校验码。',
    },
    leave: {
      title: '请假/外出报备', type: '类型', from: '开始日期', to: '结束日期', reason: '事由',
      evidence: '证明材料(选填)', submit: '提交申请', mine: '我的请假', returnNow: '销假',
      returned: '已销假', submitted: '已提交,等待审批', pickDate: '选择日期',
    },
    households: {
      title: '农户', search: '搜索户主姓名或户编号', status: '状态', all: '全部', notVisited: '未走访',
      notVisitedDays: '{n} 天以上未走访', mine: '我的', lastVisit: '上次走访 {d}', neverVisited: '从未走访',
      members: '{n} 人', empty: '没有符合条件的农户',
    },
    household: {
      overview: '概况', policies: '政策', visits: '走访', history: '修改记录', members: '家庭成员',
      flags: '两不愁三保障', food: '不愁吃穿', education: '义务教育', medical: '基本医疗', housing: '住房安全',
      water: '饮水安全', ok: '达标', notOk: '未达标', unknown: '未核实', newVisit: '新增走访',
      deliver: '登记兑现', due: '应享 {amount},{date} 前', delivered: '已兑现', noDelivery: '尚未兑现',
      who: '{who} 于 {when}', why: '原因:{why}', head: '户主', conflicts: '此户有冲突待处理',
    },
    visit: {
      title: '新增走访', role: '走访身份', mode: '走访方式', purpose: '走访目的', met: '见到的成员',
      notMet: '未见本人的原因', checklist: '两不愁三保障核查', note: '存在什么问题', changes: '家庭变化',
      demands: '群众诉求', actions: '帮扶措施', followUp: '下次回访日期', knows: '能说出帮扶责任人',
      confirmation: '农户确认', sign: '请农户在此签字或按手印', clear: '重签', refusal: '拒签原因',
      noGps: '无定位原因', location: '位置', save: '保存走访', saved: '走访已保存', needSign: '请先签字',
      needPurpose: '请至少选择一个走访目的',
    },
    delivery: {
      title: '登记兑现', amount: '金额(元)', inKind: '实物内容', date: '兑现日期', channel: '兑现方式',
      voucher: '凭证号', ack: '农户已签收', status: '兑现状态', save: '保存兑现', saved: '兑现已保存',
    },
    worklog: {
      title: '工作日志', activities: '今日工作', summary: '工作内容', problems: '存在问题', plan: '明日计划',
      save: '保存日志', saved: '日志已保存', needActivity: '请至少选择一项工作',
    },
    records: {
      title: '登记', petitions: '信访诉求', newPetition: '登记诉求', statusChange: '动态调整', projects: '项目',
      inspection: '督查暗访', survey: '满意度测评',
    },
    petition: {
      title: '登记信访诉求', listTitle: '信访诉求', anonymous: '匿名诉求(本村)', received: '受理日期', channel: '来源渠道',
      source: '问题来源', domain: '问题类别', subject: '反映对象级别', noSubject: '不涉及', summary: '诉求内容',
      due: '办理期限(不填为60天)', save: '受理', saved: '诉求已受理', needSummary: '请填写诉求内容',
      overdue: '已超期', dueOn: '{date} 前办结', handle: '办理', inProgress: '转为办理中', close: '办结',
      notAccept: '不予受理', returnVisit: '回访', resolution: '办理结果', refuseReason: '不予受理理由',
      closedOn: '办结日期', visitDate: '回访日期', visitResult: '回访结果', stepSaved: '已保存:{step}',
      needResolution: '请填写办理结果', needReason: '请填写理由', empty: '暂无诉求',
    },
    statusChange: {
      title: '动态调整', open: '新建动态调整', type: '调整类型', reason: '调整理由', date: '申请日期', note: '说明',
      save: '提交申请', saved: '已建立动态调整', needReason: '请填写调整理由', cases: '本户动态调整',
      current: '当前步骤:{step}({outcome})', addStep: '添加步骤', step: '步骤', outcome: '结果',
      votesFor: '赞成票', votesAgainst: '反对票', pubStart: '公示开始', pubEnd: '公示结束', objections: '公示异议',
      addObjection: '添加异议', objection: '异议内容', objectionResolution: '处理结果(可稍后填)',
      resolve: '处理异议', resolved: '异议已处理', stepSave: '保存步骤', stepSaved: '步骤已保存',
      withdraw: '撤回', withdrawReason: '撤回理由', withdrawn: '已撤回', result: '结果:{result}',
      laterSteps: '后续由乡镇审核、县审批公告', blockers: '标注脱贫还缺:', snapshot: '{year}年人均纯收入 {pc}',
      empty: '本户暂无动态调整', notAllowed: '动态调整由第一书记发起',
      blocker: {
        consent_not_signed: '农户未签字认可', publicity_missing: '未经村内公示', publicity_not_passed: '公示未通过',
        publicity_too_short: '公示不足7天', objections_unresolved: '公示异议未处理',
      },
    },
    project: {
      title: '项目', new: '新建项目', name: '项目名称', category: '项目类别', households: '受益贫困户(户)',
      persons: '受益人数(人)', funding: '资金来源(元)', fiscal: '财政专项扶贫资金', integrated: '整合资金',
      unit: '帮扶单位资金', own: '自筹', target: '绩效目标', link: '带贫机制', start: '计划开工', end: '计划完工',
      listing: '入库公示日期', save: '保存项目', saved: '项目已保存', needName: '请填写项目名称',
      progress: '报进度', percent: '完成比例(%)', disbursed: '累计拨付(元)', progressDate: '日期',
      progressSave: '保存进度', progressSaved: '进度已保存', latest: '进度 {percent}% · 已拨付 {money} 元',
      noProgress: '尚未报进度', total: '总投资 {money} 元', empty: '本村暂无项目',
    },
    inspection: {
      title: '督查暗访', village: '被督查村', level: '督查层级', method: '方式', date: '日期', unannounced: '暗访(未提前通知)',
      target: '被检查干部', noTarget: '不针对个人', onPost: '在岗情况', households: '抽查农户', knows: '知道帮扶责任人',
      confirmed: '走访属实', satisfaction: '满意度', findings: '发现的问题', deadline: '整改期限',
      save: '保存督查记录', saved: '督查记录已保存', mine: '我的督查记录', needVillage: '请选择被督查村',
      needTarget: '无故不在岗时请选择被检查干部',
    },
    survey: {
      title: '满意度测评', period: '测评期', year: '年度', quarter: '季度', wholeYear: '全年', source: '测评方式',
      respondent: '受访成员', result: '测评结果', reasons: '原因', save: '保存测评', saved: '测评已保存',
      needReasons: '不满意时请写明原因', needRespondent: '请选择受访成员', history: '本户测评记录',
    },
    mylog: {
      title: '我的日志', counted: '在村 {n} 天 / 应在村 {r} 天', compliant: '达标', notCompliant: '未达标',
      due: '需要走访的农户', dueDays: '已 {n} 天未走访', team: '队员考勤', prev: '上月', next: '下月',
      legend: '图例',
    },
    conflicts: {
      title: '冲突处理', empty: '没有冲突', field: '字段', pick: '选用这个值', reason: '选择理由',
      resolve: '确认处理', resolved: '已处理', by: '{who} · {when}',
    },
    errors: { network: '连不上服务器:记录已保存在本机,有网络时会自动同步。', generic: '出错了', wrongPin: 'PIN码不对,请再试一次' },
  },
  en: {
    app: { name: 'Cunji', lang: '中文', online: 'Online', offline: 'Offline' },
    common: {
      save: 'Save', cancel: 'Cancel', confirm: 'Confirm', back: 'Back', loading: 'Loading…',
      saved: 'Saved', required: 'Required', none: 'None yet', retry: 'Retry', yes: 'Yes', no: 'No',
      draftKept: 'Draft saved automatically', days: '{n} days', reason: 'Reason', date: 'Date',
    },
    time: { days: '{n} days', hours: '{n} hours', minutes: '{n} minutes' },
    pin: {
      chooseTitle: 'Choose a PIN', enterTitle: 'Enter your PIN', changeTitle: 'Change PIN',
      chooseHint: "This phone's records are stored encrypted with your PIN. Choose at least 6 digits and remember it: if forgotten, sign in again to download.",
      enterHint: "Enter your PIN to open this phone's records.", pin: 'PIN', new: 'New PIN', again: 'PIN again', old: 'Current PIN',
      unlock: 'Open', change: 'Change', opening: 'Opening…', unlocked: 'Opened', changed: 'PIN changed',
      tooShort: 'The PIN needs at least 6 characters', mismatch: 'The two PINs differ', menu: 'Change PIN',
    },
    login: {
      title: 'Sign in and register this phone', server: 'Server address', account: 'Account', password: 'Password',
      submit: 'Sign in', hint: 'Sign in online once; afterwards you can record with no signal.',
      signingIn: "Signing in and downloading the village's records…", welcome: 'Signed in',
    },
    home: {
      title: 'Home', today: 'Today', checkedIn: 'Checked in {n} times today', notCheckedIn: 'Not checked in today',
      checkIn: 'Check in', waiting: 'Waiting to sync', lastSync: 'Last sync', never: 'Never',
      sync: 'Sync now', syncing: 'Syncing…', synced: 'Synced: {pushed} sent, {pulled} received',
      leave: 'Leave / return', worklog: 'Work log', households: 'Households', mylog: 'My log',
      conflicts: 'Conflicts to settle', onLeave: 'On leave today: {type}', logout: 'Sign out',
      inside: 'Inside the village', outside: 'Outside the village (still recorded, for review)',
      clockOff: "This phone's clock is about {off} off the server's: check-ins do not count as in-village days. Turn on automatic time in the phone's settings, then check in.",
    },
    sync: { pushing: 'Sending {sent}/{total}', pulling: 'Received {received}', repairing: 'Repairing {records} records', retrying: 'Weak network, retry {attempt}…' },
    checkin: {
      title: 'Check in', locating: 'Finding your location…', accuracy: 'Accuracy about {m} m', noLocation: 'No location: try again outdoors',
      tap: 'Tap to check in', done: 'Checked in', village: 'Village', noFence: "The village boundary is not on this phone yet; sync to see it",
      note: 'Attendance is evidence for review: no rankings, no forced uploads.',
      photoOptional: 'Take a photo (optional)', photoRequired: 'Take a photo (county rule)', photoRetake: 'Retake',
      photoTaken: 'Photo taken', photoSaving: 'Saving the photo…',
      photoNeeded: 'Your county requires a photo with each check-in: tap “Take a photo” above first.',
      photoNote: 'The photo stays on this phone; only its checksum syncs.',
    },
    leave: {
      title: 'Leave or trip', type: 'Type', from: 'First day', to: 'Last day', reason: 'Reason',
      evidence: 'Evidence (optional)', submit: 'Submit', mine: 'My leave', returnNow: 'Report back',
      returned: 'Returned', submitted: 'Submitted for approval', pickDate: 'Pick a date',
    },
    households: {
      title: 'Households', search: "Search head's name or household id", status: 'Status', all: 'All', notVisited: 'Not visited',
      notVisitedDays: 'Not visited in {n}+ days', mine: 'Mine', lastVisit: 'Last visit {d}', neverVisited: 'Never visited',
      members: '{n} people', empty: 'No household matches',
    },
    household: {
      overview: 'Overview', policies: 'Policies', visits: 'Visits', history: 'History', members: 'Members',
      flags: 'Two assurances, three guarantees', food: 'Food and clothing', education: 'Schooling', medical: 'Medical care', housing: 'Safe housing',
      water: 'Safe water', ok: 'Met', notOk: 'Not met', unknown: 'Not checked', newVisit: 'New visit',
      deliver: 'Record delivery', due: 'Due {amount} by {date}', delivered: 'Delivered', noDelivery: 'Not delivered yet',
      who: '{who} at {when}', why: 'Why: {why}', head: 'Head', conflicts: 'This household has conflicts to settle',
    },
    visit: {
      title: 'New visit', role: 'Visiting as', mode: 'Mode', purpose: 'Purpose', met: 'Member met',
      notMet: 'Why nobody was met', checklist: 'Checklist', note: 'What is wrong', changes: 'Changes in the family',
      demands: 'What they asked for', actions: 'Actions taken', followUp: 'Follow-up date', knows: 'Could name their pairing cadre',
      confirmation: "Household's confirmation", sign: 'Ask the household to sign or press a fingerprint here', clear: 'Clear', refusal: 'Why they refused',
      noGps: 'Why there is no location', location: 'Location', save: 'Save visit', saved: 'Visit saved', needSign: 'Please sign first',
      needPurpose: 'Choose at least one purpose',
    },
    delivery: {
      title: 'Record delivery', amount: 'Amount (yuan)', inKind: 'Goods handed over', date: 'Date', channel: 'Channel',
      voucher: 'Voucher no.', ack: 'Household signed for it', status: 'Status', save: 'Save delivery', saved: 'Delivery saved',
    },
    worklog: {
      title: 'Work log', activities: "Today's work", summary: 'What I did', problems: 'Problems', plan: "Tomorrow's plan",
      save: 'Save log', saved: 'Log saved', needActivity: 'Choose at least one activity',
    },
    records: {
      title: 'Record', petitions: 'Petitions', newPetition: 'Take a petition', statusChange: 'Status change', projects: 'Projects',
      inspection: 'Inspection', survey: 'Satisfaction survey',
    },
    petition: {
      title: 'Take a petition', listTitle: 'Petitions', anonymous: 'Anonymous (this village)', received: 'Received on', channel: 'Channel',
      source: 'Source', domain: 'Field', subject: 'Rank of the official concerned', noSubject: 'Not about an official', summary: 'What was raised',
      due: 'Due date (60 days if blank)', save: 'Accept', saved: 'Petition accepted', needSummary: 'Say what was raised',
      overdue: 'Overdue', dueOn: 'Due {date}', handle: 'Handle', inProgress: 'Mark in progress', close: 'Close',
      notAccept: 'Do not accept', returnVisit: 'Return visit', resolution: 'How it was resolved', refuseReason: 'Why not accepted',
      closedOn: 'Closed on', visitDate: 'Visited on', visitResult: 'What they said', stepSaved: 'Saved: {step}',
      needResolution: 'Say how it was resolved', needReason: 'Give the reason', empty: 'No petitions',
    },
    statusChange: {
      title: 'Status change', open: 'Open a case', type: 'Type', reason: 'Reason', date: 'Application date', note: 'Note',
      save: 'Open the case', saved: 'Case opened', needReason: 'Give the reason', cases: "This household's cases",
      current: 'Current step: {step} ({outcome})', addStep: 'Add a step', step: 'Step', outcome: 'Outcome',
      votesFor: 'Votes for', votesAgainst: 'Votes against', pubStart: 'Notice from', pubEnd: 'Notice until', objections: 'Objections',
      addObjection: 'Add an objection', objection: 'Objection', objectionResolution: 'How it was settled (later is fine)',
      resolve: 'Settle objection', resolved: 'Objection settled', stepSave: 'Save step', stepSaved: 'Step saved',
      withdraw: 'Withdraw', withdrawReason: 'Why withdraw', withdrawn: 'Withdrawn', result: 'Result: {result}',
      laterSteps: 'The township reviews next, then the county approves', blockers: 'Still missing for an exit:', snapshot: 'Income {year}: {pc} per person',
      empty: 'No cases for this household', notAllowed: 'The first secretary opens status-change cases',
      blocker: {
        consent_not_signed: 'Household consent not signed', publicity_missing: 'No public notice yet', publicity_not_passed: 'Public notice not passed',
        publicity_too_short: 'Public notice under 7 days', objections_unresolved: 'Objections not settled',
      },
    },
    project: {
      title: 'Projects', new: 'New project', name: 'Name', category: 'Category', households: 'Poor households benefiting',
      persons: 'People benefiting', funding: 'Funding (yuan)', fiscal: 'Fiscal poverty funds', integrated: 'Integrated funds',
      unit: 'Sending unit', own: 'Self-raised', target: 'Performance target', link: 'How it helps poor households', start: 'Planned start', end: 'Planned end',
      listing: 'Listed publicly on', save: 'Save project', saved: 'Project saved', needName: 'Give the project a name',
      progress: 'Report progress', percent: 'Done (%)', disbursed: 'Disbursed so far (yuan)', progressDate: 'Date',
      progressSave: 'Save progress', progressSaved: 'Progress saved', latest: '{percent}% done · {money} yuan disbursed',
      noProgress: 'No progress reported', total: 'Total funding {money} yuan', empty: 'No projects in the village',
    },
    inspection: {
      title: 'Inspection', village: 'Village inspected', level: 'Level', method: 'Method', date: 'Date', unannounced: 'Unannounced',
      target: 'Cadre checked', noTarget: 'Not about one cadre', onPost: 'At the post?', households: 'Households asked', knows: 'Knows their cadre',
      confirmed: 'Visits confirmed', satisfaction: 'Satisfaction', findings: 'Findings', deadline: 'Rectify by',
      save: 'Save inspection', saved: 'Inspection saved', mine: 'My inspections', needVillage: 'Choose the village',
      needTarget: 'Choose the cadre who was absent',
    },
    survey: {
      title: 'Satisfaction survey', period: 'Period', year: 'Year', quarter: 'Quarter', wholeYear: 'Whole year', source: 'Asked through',
      respondent: 'Member who answered', result: 'Answer', reasons: 'Reasons', save: 'Save survey', saved: 'Survey saved',
      needReasons: 'Give the reasons for 不满意 (dissatisfied)', needRespondent: 'Choose the member who answered', history: "This household's surveys",
    },
    mylog: {
      title: 'My log', counted: '{n} days in the village / {r} required', compliant: 'Met', notCompliant: 'Not met',
      due: 'Households due a visit', dueDays: 'No visit for {n} days', team: 'Team attendance', prev: 'Previous', next: 'Next',
      legend: 'Legend',
    },
    conflicts: {
      title: 'Conflicts', empty: 'No conflicts', field: 'Field', pick: 'Use this value', reason: 'Why this value',
      resolve: 'Settle', resolved: 'Settled', by: '{who} · {when}',
    },
    errors: { network: 'Cannot reach the server: records are kept on this phone and sync when online.', generic: 'Something went wrong', wrongPin: 'Wrong PIN, try again' },
  },
}

export type Locale = keyof typeof messages

export function savedLocale(): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('locale') : null
  return saved === 'en' ? 'en' : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: 'zh-CN',
  messages,
})

/** Vant's texts in `locale`. */
function useVantLocale(locale: Locale) {
  if (locale === 'en') VantLocale.use('en-US', vantEnUS)
  else VantLocale.use('zh-CN', vantZhCN)
}
useVantLocale(i18n.global.locale.value)
watch(i18n.global.locale, useVantLocale, { flush: 'sync' })

export function setLocale(locale: Locale) {
  i18n.global.locale.value = locale
  localStorage.setItem('locale', locale)
}
